package io.deepretrieval.spark.eval;

import io.deepretrieval.spark.TestSpark;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Metrics on a small example worked out by hand (natural and base-2 logs give the same NDCG ratios). */
class RankingMetricsTest {
    private static final StructType REC = new StructType().add("movie_id", DataTypes.IntegerType).add("score", DataTypes.FloatType);
    /** ALS's output schema: int ids, float scores. */
    private static final StructType RECS = new StructType().add("user_id", DataTypes.IntegerType)
            .add("recommendations", DataTypes.createArrayType(REC));
    private static final StructType PAIRS = new StructType().add("user_id", DataTypes.StringType)
            .add("movie_id", DataTypes.StringType);
    private static final double EPS = 1e-9;

    private final SparkSession spark = TestSpark.session();
    private final RankingMetrics metrics = new RankingMetrics("user_id", "movie_id");

    private static double log2(double x) {
        return Math.log(x) / Math.log(2);
    }

    /** Best first, with falling scores. */
    private static Row recs(int user, int... movies) {
        List<Row> list = new ArrayList<>();
        for (int i = 0; i < movies.length; i++) {
            list.add(RowFactory.create(movies[i], 1f - i * 0.1f));
        }
        return RowFactory.create(user, list.toArray());
    }

    private Dataset<Row> recommendations() {
        return spark.createDataFrame(List.of(
                recs(1, 10, 20, 30, 40),
                recs(2, 1, 2, 3, 4),
                recs(4, 5, 6)), RECS);          // user 4 has nothing held out: not scored
    }

    private Dataset<Row> pairs(String... userItem) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < userItem.length; i += 2) {
            rows.add(RowFactory.create(userItem[i], userItem[i + 1]));
        }
        return spark.createDataFrame(rows, PAIRS);
    }

    /** Held out: user 1 {20, 50}; user 2 {1, 3, 4, 5, 6} (more than K = 3); user 3 {7}, with no recommendations. */
    private Dataset<Row> heldOut() {
        return pairs("1", "20", "1", "50", "1", "20",   // a repeated interaction counts once
                "2", "1", "2", "3", "2", "4", "2", "5", "2", "6",
                "3", "7");
    }

    @Test
    void metricsAtThreeMatchTheHandComputedExample() {
        RankingMetrics.Result r = metrics.evaluate(recommendations(), heldOut(), 3);
        // User 1, top 3 = 10, 20, 30: one hit (20) at rank 2 of 2 held-out items.
        double recall1 = 1.0 / 2;
        double precision1 = 1.0 / 3;
        double ndcg1 = (1 / log2(3)) / (1 + 1 / log2(3));
        double map1 = (1.0 / 2) / 2;
        // User 2, top 3 = 1, 2, 3: hits at ranks 1 and 3 of 5 held-out items; the ideal ranking fills all 3 ranks.
        double recall2 = 2.0 / 5;
        double precision2 = 2.0 / 3;
        double ndcg2 = (1 + 1 / log2(4)) / (1 + 1 / log2(3) + 1 / log2(4));
        double map2 = (1.0 / 1 + 2.0 / 3) / 3;
        // User 3 has no recommendations: 0 everywhere, still averaged in.
        assertEquals(3, r.k());
        assertEquals(3, r.users());
        assertEquals(1, r.usersWithoutRecommendations());
        assertEquals((recall1 + recall2 + 0) / 3, r.recallAtK(), EPS);
        assertEquals((precision1 + precision2 + 0) / 3, r.precisionAtK(), EPS);
        assertEquals((ndcg1 + ndcg2 + 0) / 3, r.ndcgAtK(), EPS);
        assertEquals((map1 + map2 + 0) / 3, r.mapAtK(), EPS);
        assertEquals(0.3, r.recallAtK(), EPS);
        assertEquals(1.0 / 3, r.precisionAtK(), EPS);
    }

    @Test
    void kLargerThanTheRecommendationsKeepsPrecisionOverK() {
        RankingMetrics.Result r = metrics.evaluate(recommendations(), heldOut(), 10);
        // User 1: one hit of 2 in 4 recommendations; user 2: hits 1, 3, 4 of 5 at ranks 1, 3, 4.
        assertEquals((1.0 / 2 + 3.0 / 5) / 3, r.recallAtK(), EPS);
        assertEquals((1.0 / 10 + 3.0 / 10) / 3, r.precisionAtK(), EPS);
        double ndcg1 = (1 / log2(3)) / (1 + 1 / log2(3));
        double ndcg2 = (1 + 1 / log2(4) + 1 / log2(5)) / (1 + 1 / log2(3) + 1 / log2(4) + 1 / log2(5) + 1 / log2(6));
        assertEquals((ndcg1 + ndcg2) / 3, r.ndcgAtK(), EPS);
        assertEquals(((1.0 / 2) / 2 + (1.0 + 2.0 / 3 + 3.0 / 4) / 5) / 3, r.mapAtK(), EPS);
    }

    @Test
    void trainingItemsLeftOutMoveTheRestUp() {
        Dataset<Row> train = pairs("1", "10", "2", "2", "4", "5");
        Dataset<Row> filtered = metrics.withoutTrainingItems(recommendations(), train);
        assertEquals(recommendations().schema().simpleString(), filtered.schema().simpleString(), "ALS's schema kept");
        List<Row> user1 = filtered.filter("user_id = 1").collectAsList();
        assertEquals(List.of(20, 30, 40), user1.get(0).getList(1).stream().map(x -> ((Row) x).getInt(0)).toList());
        RankingMetrics.Result r = metrics.evaluate(filtered, heldOut(), 3);
        // User 1, top 3 = 20, 30, 40: hit at rank 1 of 2. User 2, top 3 = 1, 3, 4: all hits, ideal.
        assertEquals((1.0 / 2 + 3.0 / 5) / 3, r.recallAtK(), EPS);
        assertEquals((1.0 / 3 + 1.0) / 3, r.precisionAtK(), EPS);
        assertEquals((1 / (1 + 1 / log2(3)) + 1.0) / 3, r.ndcgAtK(), EPS);
        assertEquals((1.0 / 2 + 1.0) / 3, r.mapAtK(), EPS);
    }

    @Test
    void badSettingsAndSchemasAreNamed() {
        assertEquals("k: must be >= 1, got 0", assertThrows(IllegalArgumentException.class,
                () -> metrics.evaluate(recommendations(), heldOut(), 0)).getMessage());
        assertEquals("heldOut: column 'movie_id' is missing; it has [user_id, item]", assertThrows(IllegalArgumentException.class,
                () -> metrics.evaluate(recommendations(), heldOut().toDF("user_id", "item"), 3)).getMessage());
        assertEquals("recommendations: column 'recommendations' must be array<struct<item, score>> (ALS's output), got string",
                assertThrows(IllegalArgumentException.class, () -> metrics.evaluate(
                        heldOut().withColumnRenamed("movie_id", "recommendations"), heldOut(), 3)).getMessage());
        assertEquals("heldOut: no interactions to evaluate (columns user_id, movie_id)", assertThrows(IllegalArgumentException.class,
                () -> metrics.evaluate(recommendations(), heldOut().limit(0), 3)).getMessage());
    }
}
