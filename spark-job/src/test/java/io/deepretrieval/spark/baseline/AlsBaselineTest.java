package io.deepretrieval.spark.baseline;

import io.deepretrieval.model.metrics.FactorizedTopK;
import io.deepretrieval.spark.TestSpark;
import io.deepretrieval.spark.eval.NextItemQueries;
import org.apache.spark.ml.recommendation.ALSModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AlsBaselineTest {
    private static final StructType PAIRS = new StructType().add("user", DataTypes.StringType)
            .add("item", DataTypes.StringType);

    /** Users of group g (user id mod 4) have random items of group g (item id mod 4). */
    private static Dataset<Row> groups(SparkSession spark, int users, int items, int perUser, long seed) {
        Random random = new Random(seed);
        List<Row> rows = new ArrayList<>();
        for (int u = 0; u < users; u++) {
            for (int n = 0; n < perUser; n++) {
                rows.add(RowFactory.create("u" + u, "i" + (4 * random.nextInt(items / 4) + u % 4)));
            }
        }
        return spark.createDataFrame(rows, PAIRS);
    }

    @Test
    void theGridIsEveryCombinationIncludingIterationCounts() {
        AlsBaseline.Grid grid = new AlsBaseline.Grid(List.of(4, 8), List.of(0.1), List.of(1.0, 10.0), List.of(5, 20));
        assertEquals(Set.of(new AlsBaseline.Setting(4, 0.1, 1.0, 5), new AlsBaseline.Setting(4, 0.1, 1.0, 20),
                new AlsBaseline.Setting(4, 0.1, 10.0, 5), new AlsBaseline.Setting(4, 0.1, 10.0, 20),
                new AlsBaseline.Setting(8, 0.1, 1.0, 5), new AlsBaseline.Setting(8, 0.1, 1.0, 20),
                new AlsBaseline.Setting(8, 0.1, 10.0, 5), new AlsBaseline.Setting(8, 0.1, 10.0, 20)),
                Set.copyOf(grid.settings()));
        assertEquals(8, grid.settings().size());
        assertEquals(36, AlsBaseline.Grid.EXPERIMENT.settings().size());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new AlsBaseline.Grid(List.of(4), List.of(0.1), List.of(1.0), List.of(10, 0)));
        assertEquals("ALS grid iteration counts [10, 0]: at least one, each >= 1", e.getMessage());
        assertTrue(new AlsBaseline.Setting(16, 0.1, 10, 20).label().contains("20 iterations"));
    }

    @Test
    void tuningByNdcgPicksTheRankThatSeparatesThePlantedGroups() {
        SparkSession spark = TestSpark.session();
        Dataset<Row> rows = groups(spark, 80, 80, 12, 3);
        IndexedPairs pairs = IndexedPairs.fit(rows, "user", "item");
        Dataset<Row> all = pairs.encode(rows);
        Dataset<Row> fit = all.sample(0.8, 1);
        Dataset<Row> validation = all.except(fit);
        // Rank 1 cannot tell four equally popular groups apart; rank 8 can.
        AlsBaseline.Grid grid = new AlsBaseline.Grid(List.of(1, 8), List.of(0.1), List.of(10.0), List.of(10));
        AlsBaseline.Tuned tuned = AlsBaseline.tune(fit, validation, fit, validation, pairs.items(), new FactorizedTopK(10),
                42, 10, grid, AlsBaseline.Criterion.NDCG_10);
        assertEquals(8, tuned.result().rank(), tuned.result().toString());
        // Chance NDCG@10 is about 10 / 80 of a hit per user; the groups give far more.
        assertTrue(tuned.result().validationNdcg10() > 0.3, tuned.result().toString());
        assertTrue(tuned.result().validationTopK() > 0 && tuned.result().validationTopK() <= 1, tuned.result().toString());
    }

    @Test
    void nextItemQueriesGetTheirUsersFactorRankingOrNothingWithoutFactors() {
        SparkSession spark = TestSpark.session();
        Dataset<Row> rows = groups(spark, 20, 40, 8, 4);
        // "late" is known to the indices (a row of the data set) but not to ALS (no training row).
        Dataset<Row> withLate = rows.union(spark.createDataFrame(List.of(RowFactory.create("late", "i0")), PAIRS));
        IndexedPairs pairs = IndexedPairs.fit(withLate, "user", "item");
        ALSModel model = new AlsBaseline.Setting(4, 0.1, 10, 10).fit(pairs.encode(rows), 42);
        // The oracle: dot products of the model's own factors, items translated back through the indices.
        Map<Integer, float[]> users = new HashMap<>();
        model.userFactors().collectAsList().forEach(r -> users.put(r.getInt(0), floats(r.getList(1))));
        Map<String, float[]> items = new HashMap<>();
        Map<Integer, String> labels = new HashMap<>();
        pairs.itemIds(spark).collectAsList().forEach(r -> labels.put(r.getInt(0), r.getString(1)));
        model.itemFactors().collectAsList().forEach(r -> items.put(labels.get(r.getInt(0)), floats(r.getList(1))));
        int u3 = pairs.withUserIndex(spark.createDataFrame(List.of(RowFactory.create("u3", "x")), PAIRS), "user")
                .first().getInt(2);
        Map<String, Double> scores = new HashMap<>();
        items.forEach((item, f) -> scores.put(item, dot(users.get(u3), f)));
        List<String> byScore = scores.keySet().stream().sorted(Comparator.comparingDouble(i -> -scores.get(i))).toList();

        StructType queries = new StructType().add(NextItemQueries.QUERY, DataTypes.StringType)
                .add(NextItemQueries.USER, DataTypes.StringType)
                .add(NextItemQueries.HISTORY, DataTypes.createArrayType(DataTypes.StringType));
        Dataset<Row> q = spark.createDataFrame(List.of(RowFactory.create("q1", "u3", List.of()),
                RowFactory.create("q2", "u3", List.of("i3")), RowFactory.create("q3", "late", List.of("i0"))), queries);
        Map<String, List<Row>> got = new HashMap<>();
        for (Row r : AlsBaseline.recommendForQueries(model, pairs, q, 5).collectAsList()) {
            got.put(r.getString(0), r.getList(1));
        }
        assertEquals(Set.of("q1", "q2", "q3"), got.keySet(), "every query has a row");
        // ALS scores in floats: each score is the oracle's, best first, and nothing left out scores higher.
        List<Row> list = got.get("q1");
        assertEquals(5, list.size());
        for (int i = 0; i < list.size(); i++) {
            String item = list.get(i).getString(0);
            assertEquals(scores.get(item), list.get(i).getFloat(1), 1e-4, item);
            assertEquals(scores.get(byScore.get(i)), scores.get(item), 1e-4, "position " + i);
        }
        assertEquals(list, got.get("q2"), "the history does not change ALS's ranking (the protocol drops it)");
        assertEquals(List.of(), got.get("q3"), "a user without factors gets an empty list");
    }

    private static float[] floats(List<Float> values) {
        float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = values.get(i);
        }
        return out;
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }
    private static final float[] ITEMS = {1, 0, 0, 1, 0, 0}; // [3, 2]: item 2 was never seen by ALS (zero factors)

    private static double[] accuracy(float[] queries, int n, int[] positives) {
        return new FactorizedTopK(1, 3).evaluate(Nd4j.create(queries, new long[]{n, 2}, 'c'),
                Nd4j.create(ITEMS, new long[]{3, 2}, 'c'), positives).accuracy();
    }

    @Test
    void aQueryWhoseUserHasNoFactorsIsAMissAtEveryK() {
        Map<Integer, float[]> users = Map.of(1, new float[]{1, 0}, 2, new float[]{0, 1});
        AlsBaseline.Queries q = AlsBaseline.queries(users, new int[]{1, 7, 2}, 2);
        assertEquals(1, q.withoutFactors());
        assertArrayEquals(new float[]{1, 0}, Arrays.copyOfRange(q.matrix(), 0, 2));
        assertTrue(Float.isNaN(q.matrix()[2]) && Float.isNaN(q.matrix()[3]));
        assertArrayEquals(new float[]{0, 1}, Arrays.copyOfRange(q.matrix(), 4, 6));
        int[] positives = {0, 0, 1};
        // Users 1 and 2 find their items first; user 7 misses even at K = 3 (all candidates).
        assertArrayEquals(new double[]{2 / 3.0, 2 / 3.0}, accuracy(q.matrix(), 3, positives), 1e-12);
        // What a zero row (the old fill) did: every candidate ties at 0, a hit at every K.
        float[] zeroRow = q.matrix().clone();
        zeroRow[2] = 0;
        zeroRow[3] = 0;
        assertArrayEquals(new double[]{1, 1}, accuracy(zeroRow, 3, positives), 1e-12);
    }
}
