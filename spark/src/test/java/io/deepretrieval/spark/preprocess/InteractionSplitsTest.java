package io.deepretrieval.spark.preprocess;

import io.deepretrieval.spark.TestSpark;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.execution.QueryExecution;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.QueryExecutionListener;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.xxhash64;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InteractionSplitsTest {
    private static final StructType SCHEMA = new StructType()
            .add("user_id", DataTypes.StringType)
            .add("movie_id", DataTypes.StringType)
            .add("timestamp", DataTypes.LongType)
            .add("rating", DataTypes.DoubleType);
    private final SparkSession spark = TestSpark.session();
    private final InteractionSplits splits = new InteractionSplits("user_id", "movie_id", "timestamp");

    private Dataset<Row> table(Object[]... rows) {
        List<Row> list = new ArrayList<>();
        for (Object[] r : rows) {
            list.add(RowFactory.create(r));
        }
        return spark.createDataFrame(list, SCHEMA);
    }

    private static Object[] r(String user, String movie, long ts) {
        return new Object[]{user, movie, ts, 1.0 + ts % 5};
    }

    /** "user/movie/ts" of each row, as a set. */
    private static Set<String> keys(Dataset<Row> df) {
        Set<String> s = new TreeSet<>();
        for (Row row : df.collectAsList()) {
            s.add(row.getString(0) + "/" + row.getString(1) + "/" + row.getLong(2));
        }
        return s;
    }

    private static List<String> keysInOrder(Dataset<Row> df) {
        return df.collectAsList().stream().map(row -> row.getString(0) + "/" + row.getString(1) + "/" + row.getLong(2)).toList();
    }

    /** Every column of each row, as a sorted list: a multiset that tells duplicates and other ratings apart. */
    private static List<String> multiset(Dataset<Row> df) {
        return df.collectAsList().stream().map(Row::toString).sorted().toList();
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        Collections.sort(all);
        return all;
    }

    /**
     * 4 users x 3 movies x 2 times, each (user, movie, time) rated twice with different ratings, and 6 of those rows
     * twice more word for word: rows that tie on user, movie and time, and exact copies.
     */
    private static List<Object[]> rowsWithTiesAndCopies() {
        List<Object[]> rows = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            for (double rating : new double[]{1, 4}) {
                Object[] row = {"u" + i % 4, "m" + i % 3, 100L + i % 2, rating + i % 5};
                rows.add(row);
                if (i % 4 == 1) {
                    rows.add(row.clone());
                    rows.add(row.clone());
                }
            }
        }
        return rows;
    }

    /** The same rows in one partition in their order, and reversed in 7 partitions (a round-robin shuffle). */
    private List<Dataset<Row>> onePartitionAndSeven(List<Object[]> rows) {
        List<Object[]> reversed = new ArrayList<>(rows);
        Collections.reverse(reversed);
        Dataset<Row> one = table(rows.toArray(Object[][]::new)).coalesce(1);
        Dataset<Row> seven = table(reversed.toArray(Object[][]::new)).repartition(7);
        assertEquals(1, one.rdd().getNumPartitions());
        assertEquals(7, seven.rdd().getNumPartitions());
        return List.of(one, seven);
    }

    @Test
    void randomSplitKeepsEveryRowOnceWithTiesAndExactCopiesWhateverThePartitioning() {
        List<Object[]> rows = rowsWithTiesAndCopies();
        List<String> all = multiset(table(rows.toArray(Object[][]::new)));
        List<Dataset<Row>> inputs = onePartitionAndSeven(rows);
        for (double fraction : new double[]{0.1, 0.2, 0.3, 0.5, 0.7, 0.9}) {
            List<List<String>> trains = new ArrayList<>();
            List<List<String>> tests = new ArrayList<>();
            for (Dataset<Row> input : inputs) {
                InteractionSplits.Split split = splits.random(input, 42, fraction);
                List<String> train = multiset(split.train());
                List<String> test = multiset(split.test());
                assertEquals(Math.round(all.size() * (1 - fraction)), train.size(), "exact cut at " + fraction);
                assertEquals(all, concat(train, test), "each row once, in train or in test, at " + fraction);
                assertEquals(train, multiset(split.train()), "train again");
                assertEquals(test, multiset(split.test()), "test again");
                trains.add(train);
                tests.add(test);
            }
            assertEquals(trains.get(0), trains.get(1), "1 or 7 partitions: the same training rows at " + fraction);
            assertEquals(tests.get(0), tests.get(1), "1 or 7 partitions: the same test rows at " + fraction);
        }
    }

    @Test
    void everySplitIsTheSameMultisetWhetherTheRowsComeInOneOrSevenPartitions() {
        List<Object[]> rows = rowsWithTiesAndCopies();
        List<String> all = multiset(table(rows.toArray(Object[][]::new)));
        List<Dataset<Row>> inputs = onePartitionAndSeven(rows);
        for (String kind : new String[]{"lastN", "temporal", "random"}) {
            for (int lastN : new int[]{1, 3, 5}) {
                List<List<String>> trains = new ArrayList<>();
                List<List<String>> tests = new ArrayList<>();
                for (Dataset<Row> input : inputs) {
                    InteractionSplits.Split split = splits.holdOut(kind, input, 7, 0.25, lastN);
                    trains.add(multiset(split.train()));
                    tests.add(multiset(split.test()));
                    assertEquals(all, concat(trains.get(trains.size() - 1), tests.get(tests.size() - 1)), kind);
                }
                String what = kind + (kind.equals("lastN") ? " " + lastN : "");
                assertFalse(tests.get(0).isEmpty(), what);
                assertEquals(trains.get(0), trains.get(1), what + ": 1 or 7 partitions, the same training rows");
                assertEquals(tests.get(0), tests.get(1), what + ": 1 or 7 partitions, the same test rows");
            }
        }
    }

    @Test
    void holdingNothingOutReturnsTheInputUnsortedAndAnEmptyTestSet() {
        Dataset<Row> df = table(r("b", "2", 20), r("a", "1", 10), r("a", "1", 10), r("c", "3", 30));
        InteractionSplits.Split split = splits.random(df, 42, 0);
        assertSame(df, split.train(), "no sort, no numbering: the input itself trains");
        assertEquals(0, split.test().count());
        assertEquals(Arrays.asList(df.columns()), Arrays.asList(split.test().columns()));
    }

    @Test
    void quantileCutoffIsExactAgainstASortInJavaAndNeverOrdersEveryRowInOneTask() throws Exception {
        Random random = new Random(3);
        List<Object[]> rows = new ArrayList<>();
        long[] times = new long[20_000];
        for (int i = 0; i < times.length; i++) {
            // Mostly distinct times with some repeats, as MovieLens's seconds.
            times[i] = 880_000_000L + random.nextInt(15_000);
            rows.add(r("u" + random.nextInt(50), "m" + i, times[i]));
        }
        long[] sorted = times.clone();
        Arrays.sort(sorted);
        Dataset<Row> df = table(rows.toArray(Object[][]::new)).repartition(4).cache();
        df.count();
        List<String> plans = new ArrayList<>();
        QueryExecutionListener listener = new QueryExecutionListener() {
            @Override
            public void onSuccess(String funcName, QueryExecution qe, long durationNs) {
                plans.add(qe.executedPlan().toString());
            }

            @Override
            public void onFailure(String funcName, QueryExecution qe, Exception exception) {
            }
        };
        spark.listenerManager().register(listener);
        try {
            for (double q : new double[]{0.0001, 0.01, 0.25, 0.5, 0.8, 0.9, 0.99, 0.9999}) {
                long expected = sorted[(int) Math.min(sorted.length - 1, (long) Math.floor(q * sorted.length))];
                assertEquals(expected, splits.quantileCutoff(df, q), "quantile " + q);
            }
            // The listener hears of queries on Spark's event thread; wait for it before reading what it heard.
            spark.sparkContext().listenerBus().waitUntilEmpty();
        } finally {
            spark.listenerManager().unregister(listener);
            df.unpersist();
        }
        assertFalse(plans.isEmpty(), "the listener heard the cut-off's queries");
        // Should the sketch's bracket miss the answer (it should not), the side that missed opens up.
        Dataset<Row> t = df.select(col("timestamp").as("t"));
        long median = sorted[10_000];
        assertEquals(median, InteractionSplits.timeAt(t, 10_000, median + 5, median + 9), "bracket above the answer");
        assertEquals(median, InteractionSplits.timeAt(t, 10_000, median - 9, median - 5), "bracket below the answer");
        assertEquals(median, InteractionSplits.timeAt(t, 10_000, null, null), "no bracket");
        for (String plan : plans) {
            // A global sort (or a top-k of 80% of the rows) brings that share of the rows to one task or the driver.
            assertFalse(plan.contains("TakeOrderedAndProject") || plan.matches("(?s).*Sort \\[[^\\]]*\\], true.*"), plan);
        }
    }

    @Test
    void randomSplitIsTheSeededHashOrderCutAtTheFractionWhateverThePartitioning() {
        List<Object[]> rows = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            rows.add(r("u" + i % 7, "m" + i % 11, 1000 + i));
        }
        Dataset<Row> df = table(rows.toArray(Object[][]::new));
        // The definition, written out: sort by xxhash64(seed, user, movie, timestamp) and then by the columns;
        // the first round(50 * 0.8) = 40 rows train.
        List<String> expected = keysInOrder(df.orderBy(xxhash64(lit(42L), col("user_id"), col("movie_id"), col("timestamp")),
                col("user_id"), col("movie_id"), col("timestamp")));
        InteractionSplits.Split split = splits.random(df.repartition(3), 42, 0.2);
        assertEquals(expected.subList(0, 40), keysInOrder(split.train()));
        assertEquals(expected.subList(40, 50), keysInOrder(split.test()));
        assertEquals(List.of("user_id", "movie_id", "timestamp", "rating"), List.of(split.train().columns()), "all columns kept");
        assertTrue(!keysInOrder(splits.random(df, 7, 0.2).test()).equals(expected.subList(40, 50)), "another seed, another split");

        assertEquals(Set.copyOf(expected), keys(splits.random(df, 42, 0).train()), "a zero fraction trains every row");
        for (double bad : new double[]{1, -0.1, Double.NaN}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> splits.random(df, 42, bad));
            assertEquals("testFraction: must be in [0, 1), got " + bad, e.getMessage());
        }
    }

    @Test
    void temporalSplitPutsRowsBeforeTheCutoffInTrainAndTheRestInTest() {
        Dataset<Row> df = table(r("a", "1", 10), r("a", "2", 35), r("b", "1", 20), r("b", "3", 40), r("c", "2", 34),
                r("c", "4", 36));
        InteractionSplits.Split split = splits.temporal(df, 35);
        assertEquals(Set.of("a/1/10", "b/1/20", "c/2/34"), keys(split.train()));
        assertEquals(Set.of("a/2/35", "b/3/40", "c/4/36"), keys(split.test()), "the cut-off itself is test");
        assertEquals(4, split.test().columns().length);

        IllegalArgumentException early = assertThrows(IllegalArgumentException.class, () -> splits.temporal(df, 10));
        assertEquals("cutoff: 10 leaves the training set empty (timestamp runs from 10 to 40; train is < cutoff, test"
                + " >= cutoff)", early.getMessage());
        IllegalArgumentException late = assertThrows(IllegalArgumentException.class, () -> splits.temporal(df, 41));
        assertTrue(late.getMessage().startsWith("cutoff: 41 leaves the test set empty"), late.getMessage());
    }

    @Test
    void quantileCutoffIsTheExactTimestampOfRowFloorQTimesN() {
        List<Object[]> rows = new ArrayList<>();
        for (int i = 1; i <= 10; i++) {
            rows.add(r("u" + i % 3, "m" + i, 100L * i));
        }
        Dataset<Row> df = table(rows.toArray(Object[][]::new)).repartition(4);
        assertEquals(900, splits.quantileCutoff(df, 0.8));
        InteractionSplits.Split split = splits.temporalQuantile(df, 0.8);
        assertEquals(Set.of("u1/m1/100", "u2/m2/200", "u0/m3/300", "u1/m4/400", "u2/m5/500", "u0/m6/600",
                "u1/m7/700", "u2/m8/800"), keys(split.train()));
        assertEquals(Set.of("u0/m9/900", "u1/m10/1000"), keys(split.test()));
        assertEquals(200, splits.quantileCutoff(df, 0.15), "floor(1.5) = row 1");

        // Ties at the cut-off all go to test: times 1 2 2 3 3 3 4 5 6 7, q = 0.5 -> row 5 (time 3) -> 3 train rows.
        long[] times = {1, 2, 2, 3, 3, 3, 4, 5, 6, 7};
        List<Object[]> tied = new ArrayList<>();
        for (int i = 0; i < times.length; i++) {
            tied.add(r("u", "m" + i, times[i]));
        }
        InteractionSplits.Split t = splits.temporalQuantile(table(tied.toArray(Object[][]::new)), 0.5);
        assertEquals(Set.of("u/m0/1", "u/m1/2", "u/m2/2"), keys(t.train()));
        assertEquals(7, t.test().count());

        for (double bad : new double[]{0, 1, 1.5, Double.NaN}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> splits.temporalQuantile(df, bad));
            assertEquals("quantile: must be between 0 and 1 (exclusive), got " + bad, e.getMessage());
        }
        // All rows at one time: any quantile's cut-off is that time, which leaves train empty.
        Dataset<Row> flat = table(r("a", "1", 5), r("b", "2", 5));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> splits.temporalQuantile(flat, 0.5)).getMessage()
                .startsWith("cutoff: 5 leaves the training set empty"));
    }

    @Test
    void leaveLastNHoldsOutEachUsersLatestAndKeepsShortHistoriesInTrain() {
        Dataset<Row> df = table(
                r("a", "1", 10), r("a", "2", 20), r("a", "3", 30), r("a", "4", 40),   // 4 interactions
                r("b", "5", 10), r("b", "6", 20), r("b", "7", 20),                    // tie at the latest time
                r("c", "1", 50), r("c", "2", 60),                                     // exactly N = 2
                r("d", "9", 70));                                                     // one interaction
        InteractionSplits.Split two = splits.leaveLastN(df.repartition(3), 2);
        assertEquals(Set.of("a/3/30", "a/4/40", "b/6/20", "b/7/20"), keys(two.test()));
        assertEquals(Set.of("a/1/10", "a/2/20", "b/5/10", "c/1/50", "c/2/60", "d/9/70"), keys(two.train()),
                "users with <= N interactions keep them all in train");
        assertEquals(List.of("user_id", "movie_id", "timestamp", "rating"), List.of(two.test().columns()));

        InteractionSplits.Split one = splits.leaveLastN(df, 1);
        // b's two latest share time 20: the larger movie id ("7") counts as the later one.
        assertEquals(Set.of("a/4/40", "b/7/20", "c/2/60"), keys(one.test()));
        assertEquals(7, one.train().count());
        assertEquals(keys(one.test()), keys(splits.leaveLastN(df.repartition(4), 1).test()), "deterministic");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> splits.leaveLastN(df, 0));
        assertEquals("n: must be >= 1 (interactions held out per user), got 0", e.getMessage());
    }

    @Test
    void missingOrMistypedColumnsAreNamed() {
        Dataset<Row> df = table(r("a", "1", 10), r("a", "2", 20));
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> new InteractionSplits("user_id", "item", "timestamp").leaveLastN(df, 1));
        assertEquals("column 'item' is missing; the interactions have [user_id, movie_id, timestamp, rating]",
                missing.getMessage());
        IllegalArgumentException type = assertThrows(IllegalArgumentException.class,
                () -> splits.temporal(df.withColumn("timestamp", col("timestamp").cast("string")), 15));
        assertEquals("column 'timestamp' must hold integral seconds (long or int), got string", type.getMessage());
        Dataset<Row> withNull = df.union(spark.createDataFrame(List.of(RowFactory.create("b", "3", null, 1.0)), SCHEMA));
        assertEquals("column 'timestamp' is null in 1 rows; a temporal split needs every row's time",
                assertThrows(IllegalArgumentException.class, () -> splits.temporal(withNull, 15)).getMessage());
    }
}
