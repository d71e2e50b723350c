package io.deepretrieval.spark.baseline;

import io.deepretrieval.model.metrics.FactorizedTopK;
import io.deepretrieval.model.metrics.TopKAccuracy;
import io.deepretrieval.spark.eval.RankingMetrics;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

import java.util.ArrayList;
import java.util.List;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.struct;

/**
 * The most-popular baseline: every user gets the candidates ranked by their count in the training rows (ties to
 * the lower index, candidates never seen last). What a retrieval model must beat to have learned anything
 * personal, and the natural fallback for users without history, who make up most of a temporal split's test rows.
 * Rows are encoded as for {@link AlsBaseline}: {@code user_index}, {@code candidate}.
 */
public final class PopularityBaseline {
    private PopularityBaseline() {
    }

    /** The ranking's figures on the test rows: factorized top-K over all candidates and per-user ranking at K. */
    public record Result(TopKAccuracy test, RankingMetrics.Result ranking) {
    }

    public static Result score(Dataset<Row> train, Dataset<Row> test, int candidates, FactorizedTopK metric, int rankingK) {
        long[] counts = new long[candidates];
        for (Row r : train.groupBy("candidate").count().collectAsList()) {
            counts[r.getInt(0)] = r.getLong(1);
        }
        Integer[] order = new Integer[candidates];
        for (int i = 0; i < candidates; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> counts[a] != counts[b] ? Long.compare(counts[b], counts[a]) : Integer.compare(a, b));
        int[] rank = new int[candidates];
        for (int i = 0; i < candidates; i++) {
            rank[order[i]] = i;
        }
        int[] ks = metric.ks();
        long[] hits = new long[ks.length];
        long queries = 0;
        for (Row r : test.groupBy("candidate").count().collectAsList()) {
            long n = r.getLong(1);
            queries += n;
            for (int k = 0; k < ks.length; k++) {
                hits[k] += rank[r.getInt(0)] < ks[k] ? n : 0;
            }
        }
        // Per user: the ranking without the user's training items, so ask for K plus the most any user has.
        Dataset<Row> seen = train.select(col("user_index").as("user"), col("candidate").as("item")).distinct();
        long most = seen.groupBy("user").count().agg(org.apache.spark.sql.functions.max("count")).first().getLong(0);
        int length = (int) Math.min(candidates, rankingK + most);
        List<Column> top = new ArrayList<>();
        for (int i = 0; i < length; i++) {
            top.add(struct(lit(order[i]).as("item"), lit((float) counts[order[i]]).as("score")));
        }
        Dataset<Row> truth = test.select(col("user_index").as("user"), col("candidate").as("item"));
        Dataset<Row> recommended = truth.select("user").distinct()
                .withColumn(RankingMetrics.RECOMMENDATIONS, array(top.toArray(Column[]::new)));
        RankingMetrics metrics = new RankingMetrics("user", "item");
        return new Result(metric.accuracy(hits, queries),
                metrics.evaluate(metrics.withoutTrainingItems(recommended, seen), truth, rankingK));
    }
}
