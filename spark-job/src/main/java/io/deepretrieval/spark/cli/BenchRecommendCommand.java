package io.deepretrieval.spark.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.deepretrieval.model.io.ResidentMemory;
import io.deepretrieval.spark.SparkSessions;
import io.deepretrieval.spark.ml.SavedModels;
import io.deepretrieval.spark.ml.TwoTowerRetrieval;
import io.deepretrieval.spark.ml.TwoTowerRetrievalModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.xxhash64;

/**
 * {@code bench-recommend}: time and peak memory of {@code recommendForAllUsers}, for a saved model or for a model
 * fitted briefly on synthetic users × items. One JSON line per figure on stdout.
 */
@Command(name = "bench-recommend", mixinStandardHelpOptions = true,
        description = "Time recommendForAllUsers(k) on a saved model (--model) or on a synthetic users x items model.")
final class BenchRecommendCommand implements Callable<Integer> {
    @Option(names = "--model", description = "a model saved by 'train', or a PipelineModel folder holding one"
            + " (default: fit one on synthetic data)")
    String model;

    @Option(names = "--users", defaultValue = "100000", description = "synthetic users (default: ${DEFAULT-VALUE})")
    int users;

    @Option(names = "--items", defaultValue = "10000", description = "synthetic items (default: ${DEFAULT-VALUE})")
    int items;

    @Option(names = "--per-user", defaultValue = "3", description = "synthetic interactions per user (default: ${DEFAULT-VALUE})")
    int perUser;

    @Option(names = "--k", defaultValue = "100", description = "(default: ${DEFAULT-VALUE})")
    int k;

    @Option(names = "--master", defaultValue = "local[*]", description = "(default: ${DEFAULT-VALUE})")
    String master;

    @Spec
    CommandSpec spec;

    private final ObjectMapper json = new ObjectMapper();

    @Override
    public Integer call() throws Exception {
        OptionChecks.excludes(spec, "--model", "the synthetic model's options do not apply to a saved one",
                "--users", "--items", "--per-user");
        OptionChecks.atLeast("--users", users, 1);
        OptionChecks.atLeast("--items", items, 1);
        OptionChecks.atLeast("--per-user", perUser, 1);
        OptionChecks.atLeast("--k", k, 1);
        try (SparkSession spark = SparkSessions.create(master, "deep-retrieval bench-recommend")) {
            TwoTowerRetrievalModel m;
            String dataset;
            if (model != null) {
                m = SavedModels.load(spark, model);
                dataset = model;
            } else {
                dataset = "synthetic-" + users + "x" + items;
                Dataset<Row> interactions = spark.range((long) users * perUser).select(
                        pmod(col("id"), lit(users)).cast("string").as("user_id"),
                        pmod(xxhash64(col("id")), lit(items)).cast("string").as("movie_id"),
                        lit(1_600_000_000L).plus(pmod(col("id"), lit(1_000_000))).as("timestamp"));
                interactions = interactions.withColumn("title", concat(lit("item "), col("movie_id")));
                long t0 = System.nanoTime();
                m = new TwoTowerRetrieval().setLayerSizes(32).setMaxEpochs(1).fit(interactions);
                emit(dataset, "fit_one_epoch_seconds", (System.nanoTime() - t0) / 1e9, "s");
            }
            long knownUsers = m.recommendForAllUsers(1).count();
            long t0 = System.nanoTime();
            m.recommendForAllUsers(k).write().format("noop").mode("overwrite").save();
            double seconds = (System.nanoTime() - t0) / 1e9;
            emit(dataset, "users", knownUsers, "users");
            emit(dataset, "items", m.itemEmbeddings().count(), "items");
            emit(dataset, "recommend_for_all_users_seconds", seconds, "s");
            emit(dataset, "users_per_second", knownUsers / seconds, "users/s");
            emit(dataset, "peak_rss_mb_driver_and_local_executors", ResidentMemory.peakBytes() / 1048576.0, "MB");
        }
        return 0;
    }

    private void emit(String dataset, String metric, double value, String unit) throws Exception {
        System.out.println(json.writeValueAsString(json.createObjectNode().put("bench", "recommend-all")
                .put("dataset", dataset).put("k", k).put("metric", metric).put("value", value).put("unit", unit)));
    }
}
