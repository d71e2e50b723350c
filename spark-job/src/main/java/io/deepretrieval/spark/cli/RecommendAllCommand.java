package io.deepretrieval.spark.cli;

import io.deepretrieval.spark.SparkSessions;
import io.deepretrieval.spark.ml.SavedModels;
import io.deepretrieval.spark.ml.TwoTowerRetrievalModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/**
 * {@code recommend-all}: every known user's top-k from a model saved by {@code train} (or a PipelineModel holding
 * one), as Parquet; or, given a table of users and their histories, each of those users' top-k from their history
 * (also users the model never saw).
 */
@Command(name = "recommend-all", mixinStandardHelpOptions = true,
        description = "Top-k items for every user of a saved TwoTowerRetrievalModel, computed on the executors, written as Parquet.")
final class RecommendAllCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(RecommendAllCommand.class);

    @Option(names = "--model", required = true, description = "model saved by 'train', or a PipelineModel folder"
            + " holding one (any Hadoop URI)")
    String model;

    @Option(names = "--k", defaultValue = "10", description = "(default: ${DEFAULT-VALUE})")
    int k;

    @Option(names = "--out", required = true, description = "Parquet output (any Hadoop URI; must not exist)")
    String out;

    @Option(names = "--histories", description = "Parquet or JSON-lines (.json) table of users with the user column and"
            + " the model's history column (an array of item ids, oldest first): recommend for these users from these"
            + " histories instead of for every known user")
    String histories;

    @Option(names = "--master", defaultValue = "local[*]", description = "Spark master; spark-submit's wins (default: ${DEFAULT-VALUE})")
    String master;

    @Override
    public Integer call() throws Exception {
        if (k < 1) {
            throw new IllegalArgumentException("--k must be >= 1, got " + k);
        }
        try (SparkSession spark = SparkSessions.create(master, "deep-retrieval recommend-all")) {
            TwoTowerRetrievalModel m = SavedModels.load(spark, model);
            if (histories == null) {
                m.recommendForAllUsers(k).write().parquet(out);
                LOG.info("Wrote the top {} of every user to {}", k, out);
                return 0;
            }
            if (m.userHistories() == null) {
                throw new IllegalArgumentException("--histories: the model's query tower reads no history");
            }
            Dataset<Row> users = histories.endsWith(".json") ? spark.read().json(histories) : spark.read().parquet(histories);
            long n = users.count();
            m.recommendForUserSubset(users, k).write().parquet(out);
            LOG.info("Wrote the top {} of the {} users of {} to {}", k, n, histories, out);
        }
        return 0;
    }
}
