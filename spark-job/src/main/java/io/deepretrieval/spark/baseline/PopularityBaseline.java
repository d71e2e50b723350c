package io.deepretrieval.spark.baseline;

import io.deepretrieval.model.metrics.FactorizedTopK;
import io.deepretrieval.model.metrics.TopKAccuracy;
import io.deepretrieval.spark.eval.NextItemQueries;
import io.deepretrieval.spark.eval.RankingMetrics;
import io.deepretrieval.spark.preprocess.KeyColumns;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
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

    /**
     * The ranking of {@code train}'s counts scored on {@code test}: factorized top-K over all candidates, and
     * per-user recall and NDCG at {@code rankingK} with each user's training items left out.
     */
    public static Result score(Dataset<Row> train, Dataset<Row> test, int candidates, FactorizedTopK metric, int rankingK) {
        int[] order = order(train, candidates);
        return new Result(accuracy(order, test, metric), ranking(order, train, test, rankingK));
    }

    /** Factorized top-K of the ranking on {@code test} only (no per-user lists: cheap). */
    public static TopKAccuracy accuracy(Dataset<Row> train, Dataset<Row> test, int candidates, FactorizedTopK metric) {
        return accuracy(order(train, candidates), test, metric);
    }

    /**
     * The next-item protocol's most-popular ({@link NextItemQueries.Recommender}): every query gets the same
     * {@code n} items, by descending count in {@code train} ({@link KeyColumns} rows), ties to the smaller item id;
     * the score is the count. Columns: {@value NextItemQueries#QUERY} and {@value RankingMetrics#RECOMMENDATIONS}.
     */
    public static Dataset<Row> recommendForQueries(Dataset<Row> train, Dataset<Row> queries, int n) {
        List<Row> top = train.groupBy(col(KeyColumns.ITEM).cast("string").as(KeyColumns.ITEM)).count()
                .orderBy(col("count").desc(), col(KeyColumns.ITEM)).limit(n).collectAsList();
        List<Column> list = new ArrayList<>();
        for (Row r : top) {
            list.add(struct(lit(r.getString(0)).as(NextItemQueries.ITEM), lit((double) r.getLong(1)).as(NextItemQueries.SCORE)));
        }
        return queries.select(col(NextItemQueries.QUERY), array(list.toArray(Column[]::new)).as(RankingMetrics.RECOMMENDATIONS));
    }

    /** Candidates by descending training count, ties to the lower index. */
    private static int[] order(Dataset<Row> train, int candidates) {
        long[] counts = new long[candidates];
        for (Row r : train.groupBy("candidate").count().collectAsList()) {
            counts[r.getInt(0)] = r.getLong(1);
        }
        return IntStream.range(0, candidates).boxed()
                .sorted((a, b) -> counts[a] != counts[b] ? Long.compare(counts[b], counts[a]) : Integer.compare(a, b))
                .mapToInt(Integer::intValue).toArray();
    }

    private static TopKAccuracy accuracy(int[] order, Dataset<Row> test, FactorizedTopK metric) {
        int[] rank = new int[order.length];
        for (int i = 0; i < order.length; i++) {
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
        return metric.accuracy(hits, queries);
    }

    private static RankingMetrics.Result ranking(int[] order, Dataset<Row> train, Dataset<Row> test, int rankingK) {
        // Per user: the ranking without the user's training items, so ask for K plus the most any user has.
        Dataset<Row> seen = train.select(col("user_index").as("user"), col("candidate").as("item")).distinct();
        long most = seen.groupBy("user").count().agg(max("count")).first().getLong(0);
        int length = (int) Math.min(order.length, rankingK + most);
        List<Column> top = new ArrayList<>();
        for (int i = 0; i < length; i++) {
            // The score is the negated rank: best first, as ALS's output schema expects.
            top.add(struct(lit(order[i]).as("item"), lit((float) -i).as("score")));
        }
        Dataset<Row> truth = test.select(col("user_index").as("user"), col("candidate").as("item"));
        Dataset<Row> recommended = truth.select("user").distinct()
                .withColumn(RankingMetrics.RECOMMENDATIONS, array(top.toArray(Column[]::new)));
        RankingMetrics metrics = new RankingMetrics("user", "item");
        return metrics.evaluate(metrics.withoutTrainingItems(recommended, seen), truth, rankingK);
    }
}
