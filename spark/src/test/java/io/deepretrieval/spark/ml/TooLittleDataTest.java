package io.deepretrieval.spark.ml;

import io.deepretrieval.spark.TestSpark;
import io.deepretrieval.spark.preprocess.KeyColumns;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Data too small to learn from or to judge a fit by stops before training with the setting to change; small but
 * usable data (fewer rows than a batch, one user, duplicate rows, times before 1970, ids unioned from two types)
 * fits, each as its documented policy says.
 */
class TooLittleDataTest {
    private static final StructType SCHEMA = new StructType().add("customer", DataTypes.StringType)
            .add("product", DataTypes.StringType).add("seconds", DataTypes.LongType)
            .add("product_name", DataTypes.StringType).add("held", DataTypes.BooleanType);

    /** {@code n} rows of {@code users} users and {@code items} items, cycling; {@code held} marks each row. */
    private static Dataset<Row> rows(int n, int users, int items, Function<Integer, Boolean> held) {
        List<Row> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(RowFactory.create("c-" + i % users, "p-" + (i * 7) % items, 1_600_000_000L + i,
                    "title " + (i * 7) % items, held.apply(i)));
        }
        return spark().createDataFrame(out, SCHEMA);
    }

    private static SparkSession spark() {
        return TestSpark.session();
    }

    private static TwoTowerRetrieval estimator() {
        return TwoTowerRetrievalTest.estimator().setMaxEpochs(1).setEvalEvery(1);
    }

    private static String fitError(TwoTowerRetrieval estimator, Dataset<Row> df) {
        return assertThrows(IllegalArgumentException.class, () -> estimator.fit(df)).getMessage();
    }

    @Test
    void anEmptyDataFrameOrOneWithNoValidRowIsAnError() {
        assertEquals("the DataFrame has no rows: there is nothing to fit", fitError(estimator(), rows(0, 1, 1, i -> false)));
        Dataset<Row> allNull = spark().createDataFrame(List.of(RowFactory.create(null, "p-1", 1L, "t", false),
                RowFactory.create(null, "p-2", 2L, "t", false)), SCHEMA);
        String e = fitError(estimator().setHandleInvalid("skip"), allNull);
        assertTrue(e.startsWith("handleInvalid skip: all 2 rows are invalid (2 rows have a null in userCol 'customer')"), e);
    }

    @Test
    void oneItemOrOneInteractionIsAnError() {
        String oneItem = "itemCol 'product': the data has 1 distinct item; retrieval ranks items against each other"
                + " and needs at least 2";
        assertEquals(oneItem, fitError(estimator().setValidationFraction(0), rows(50, 10, 1, i -> false)));
        assertEquals(oneItem, fitError(estimator().setValidationFraction(0), rows(1, 1, 1, i -> false)));
    }

    @Test
    void aSplitThatHoldsOutNothingOrEverythingIsAnErrorNamingIt() {
        Dataset<Row> noneMarked = rows(40, 5, 8, i -> false);
        assertEquals("no validation rows: validationIndicatorCol 'held' holds out none of the 40 rows; give more data,"
                        + " raise it, or turn validation off (validationFraction 0, no validationIndicatorCol)",
                fitError(estimator().setValidationIndicatorCol("held"), noneMarked));
        assertEquals("no training rows: validationIndicatorCol 'held' holds out all 40 rows",
                fitError(estimator().setValidationIndicatorCol("held"), rows(40, 5, 8, i -> true)));
        // 0.001 of 40 rows: the seeded draw keeps every row in training.
        String random = fitError(estimator().setValidationFraction(0.001), noneMarked);
        assertTrue(random.startsWith("no validation rows: validationSplit random with validationFraction 0.001 holds"
                + " out none of the 40 rows"), random);
    }

    @Test
    void anEmptyStoppingSliceIsAnErrorNamingTheFraction() {
        String e = fitError(estimator().setValidationFraction(0).setEarlyStoppingPatience(2)
                .setEarlyStoppingFraction(0.001), rows(40, 5, 8, i -> false));
        assertEquals("early stopping: earlyStoppingFraction 0.001 of the 40 training rows leaves an empty stopping"
                + " slice; give more data, change it, or set earlyStoppingPatience 0", e);
    }

    @Test
    void fewerRowsThanOneBatchAndOneUserTrain() {
        // 30 rows, one user, batch 256: each epoch is one partial batch; the model still ranks every unseen item.
        Dataset<Row> df = rows(30, 1, 12, i -> i % 5 == 0);
        TwoTowerRetrieval estimator = estimator().setValidationIndicatorCol("held").setMaxEpochs(2);
        try (PreparedInteractions prepared = estimator.prepare(df)) {
            assertEquals(6, prepared.heldOutRows().count(), "the 6 marked rows are the validation rows");
        }
        TwoTowerRetrievalModel model = estimator.fit(df);
        try {
            assertEquals(2, model.validationCurve().size(), "a validation point per epoch");
            List<Row> recs = model.recommendForUserSubset(df.select("customer").distinct(), 5).collectAsList();
            assertEquals(1, recs.size());
            assertEquals(5, recs.get(0).getList(1).size());
        } finally {
            model.release();
        }
    }

    @Test
    void duplicateRowsAreKeptAsRepeatedInteractions() {
        Dataset<Row> once = rows(60, 6, 10, i -> false);
        Dataset<Row> twice = once.union(once.limit(15));
        try (PreparedInteractions prepared = estimator().setValidationFraction(0).prepare(twice)) {
            assertEquals(75, prepared.trainRows().count(), "each duplicate is one more training example");
        }
    }

    @Test
    void timesBefore1970AndAUserAndAnItemOfOneRowFit() {
        List<Row> out = new ArrayList<>();
        for (int i = 0; i < 80; i++) {
            out.add(RowFactory.create("c-" + i % 8, "p-" + i % 11, -2_000_000_000L + 1000L * i, "title " + i % 11, i % 5 == 0));
        }
        // One row of a user and an item seen nowhere else, marked as a training row.
        out.add(RowFactory.create("solo", "p-solo", -1_000_000_000L, "title solo", false));
        Dataset<Row> df = spark().createDataFrame(out, SCHEMA);
        TwoTowerRetrievalModel model = estimator().setValidationIndicatorCol("held").fit(df);
        try {
            assertEquals(1, model.validationCurve().size());
            assertTrue(model.validationCurve().get(0).accuracy().accuracy()[0] >= 0);
            List<Row> solo = model.recommendForUserSubset(df.filter("customer = 'solo'").select("customer"), 3)
                    .collectAsList();
            assertEquals(3, solo.get(0).getList(1).size(), "the one-row user is known and recommended for");
            assertEquals(1, model.itemEmbeddings().filter("product = 'p-solo'").count(), "the one-row item is a candidate");
        } finally {
            model.release();
        }
    }

    @Test
    void idsUnionedFromTwoTypesAreOneIdPerValue() {
        // Spark's union widens an int id column and a string one to string: user 1 and "1" are the same user.
        StructType ints = new StructType().add("customer", DataTypes.IntegerType).add("product", DataTypes.StringType)
                .add("seconds", DataTypes.LongType).add("product_name", DataTypes.StringType);
        List<Row> a = new ArrayList<>();
        List<Row> b = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            a.add(RowFactory.create(i % 4, "p-" + i % 9, 1_600_000_000L + i, "title " + i % 9));
            b.add(RowFactory.create(String.valueOf(i % 6), "p-" + i % 9, 1_600_001_000L + i, "title " + i % 9));
        }
        Dataset<Row> union = spark().createDataFrame(a, ints).union(spark().createDataFrame(b, new StructType()
                .add("customer", DataTypes.StringType).add("product", DataTypes.StringType)
                .add("seconds", DataTypes.LongType).add("product_name", DataTypes.StringType)));
        assertEquals(DataTypes.StringType, union.schema().apply("customer").dataType());
        try (PreparedInteractions prepared = estimator().setValidationFraction(0).prepare(union)) {
            assertEquals(6, prepared.trainRows().select(KeyColumns.USER).distinct().count(), "users 0-5, not 0-3 twice");
        }
    }
}
