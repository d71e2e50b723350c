package io.deepretrieval.spark.ml;

import io.deepretrieval.spark.TestSpark;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code fit}'s first step on its own: rows marked by validationIndicatorCol are held out, exactly those. */
class PrepareStepTest {
    @Test
    void theMarkedRowsAreHeldOutAndTheCachesGoOnClose(@TempDir Path dir) {
        SparkSession spark = TestSpark.session();
        Dataset<Row> rows = TwoTowerRetrievalTest.writeParquetWith(spark, dir.resolve("rows.parquet"), 1500);
        // Oracle: the marked rows' keys, chosen by a rule of the test's own (every third second).
        Dataset<Row> marked = rows.withColumn("is_validation", col("seconds").mod(3).equalTo(0));
        Set<String> expected = keys(marked.filter(col("is_validation")), "customer", "product", "seconds");
        assertTrue(expected.size() > 300 && expected.size() < 700, expected.size() + " marked");
        TwoTowerRetrieval estimator = TwoTowerRetrievalTest.estimator().setValidationIndicatorCol("is_validation");
        int cachedBefore = cached(spark);
        try (PreparedInteractions prepared = estimator.prepare(marked)) {
            assertEquals(expected, keys(prepared.heldOutRows(), "user_id", "item_id", "timestamp"));
            assertEquals(1500 - expected.size(), prepared.trainRows().count());
            assertEquals(prepared.heldOutRows().count(), prepared.heldOut().size());
            assertTrue(cached(spark) > cachedBefore, "the prepared rows are cached");
        }
        assertEquals(cachedBefore, cached(spark), "closing releases every cache the step made");

        Dataset<Row> withNull = marked.withColumn("is_validation",
                when(col("seconds").mod(7).equalTo(0), lit(null).cast("boolean")).otherwise(col("is_validation")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> estimator.prepare(withNull));
        assertTrue(e.getMessage().contains("validationIndicatorCol: column 'is_validation' is null in"), e.getMessage());
        assertEquals(cachedBefore, cached(spark), "a failed step releases its caches too");
        IllegalArgumentException type = assertThrows(IllegalArgumentException.class,
                () -> estimator.prepare(rows.withColumn("is_validation", lit(1))));
        assertTrue(type.getMessage().contains("validationIndicatorCol: column 'is_validation' has type int"), type.getMessage());
    }

    /** The Estimator's own checks, before any work: a bad schedule; and the columns its model adds, for a Pipeline. */
    @Test
    void theScheduleIsCheckedAndTheSchemaNamesTheModelsColumns(@TempDir Path dir) {
        Dataset<Row> rows = TwoTowerRetrievalTest.writeParquetWith(TestSpark.session(), dir.resolve("rows.parquet"), 50);
        for (String bad : new String[]{"0:0.1", "5:-1", "5", "5:0.1,6"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> TwoTowerRetrievalTest.estimator().setLearningRateSchedule(bad).transformSchema(rows.schema()));
            assertTrue(e.getMessage().startsWith("learningRateSchedule: '" + bad + "'"), e.getMessage());
        }
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class, () -> TwoTowerRetrievalTest
                .estimator().setLearningRateSchedule("5:0.1", "5:0.2").transformSchema(rows.schema()));
        assertEquals("learningRateSchedule: epoch 5 is given twice", twice.getMessage());
        StructType out = TwoTowerRetrievalTest.estimator().setLearningRateSchedule("5:0.05").transformSchema(rows.schema());
        assertEquals(rows.schema().size() + 2, out.size());
        assertEquals("array<float>", out.apply("queryEmbedding").dataType().simpleString());
        assertEquals("float", out.apply("score").dataType().simpleString());
    }

    private static Set<String> keys(Dataset<Row> rows, String user, String item, String time) {
        Set<String> out = new HashSet<>();
        for (Row r : rows.select(col(user).cast("string"), col(item).cast("string"), col(time).cast("long")).collectAsList()) {
            assertTrue(out.add(r.getString(0) + "/" + r.getString(1) + "/" + r.getLong(2)), "a key twice: " + r);
        }
        return out;
    }

    private static int cached(SparkSession spark) {
        return spark.sparkContext().getPersistentRDDs().size();
    }
}
