package io.deepretrieval.spark.ml;

import io.deepretrieval.spark.TestSpark;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * handleInvalid: rows with a null id or time, or a null / NaN / infinite numeric feature, stop the fit by default
 * with the count per column, and with skip are left out, exactly those (the test planted them and counts them
 * itself), recorded in the model and kept when it is saved.
 */
class HandleInvalidTest {
    private static final StructType SCHEMA = new StructType().add("customer", DataTypes.StringType)
            .add("product", DataTypes.StringType).add("seconds", DataTypes.LongType)
            .add("product_name", DataTypes.StringType).add("spend", DataTypes.DoubleType);

    @Test
    void invalidRowsAreAnErrorNamingTheirColumnsOrCountedAndLeftOut() throws IOException {
        SparkSession spark = TestSpark.session();
        Random random = new Random(5);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 600; i++) {
            int item = random.nextInt(40);
            Double spend = i == 6 || i == 7 ? Double.valueOf(Double.NaN) : i == 8 ? Double.valueOf(Double.POSITIVE_INFINITY)
                    : i == 9 ? null : Double.valueOf(i % 7);
            rows.add(RowFactory.create(i < 3 ? null : "c-" + random.nextInt(50), i >= 3 && i < 5 ? null : "p-" + item,
                    i == 5 ? null : Long.valueOf(1_600_000_000L + i), "title " + item, spend));
        }
        Dataset<Row> df = spark.createDataFrame(rows, SCHEMA);
        TwoTowerRetrieval estimator = TwoTowerRetrievalTest.estimator().setValidationFraction(0).setMaxEpochs(1)
                .setQueryFeatures("customer:categorical", "seconds:timestamp:10", "spend:numeric");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> estimator.fit(df));
        assertTrue(e.getMessage().startsWith("handleInvalid error: of 600 rows, 3 rows have a null in userCol 'customer';"
                + " 2 rows have a null in itemCol 'product'; 1 row has a null in timestampCol 'seconds'; 4 rows have a"
                + " null, NaN or infinite value in queryFeatures 'spend:numeric' column 'spend'"), e.getMessage());

        TwoTowerRetrieval skipping = estimator.copy(new ParamMap()).setHandleInvalid("skip");
        try (PreparedInteractions prepared = skipping.prepare(df)) {
            assertEquals(600 - 10, prepared.trainRows().count() + prepared.heldOutRows().count(), "the 10 planted rows left out");
        }
        // The model records what was left out, and keeps the record through a save and a load.
        TwoTowerRetrievalModel model = skipping.fit(df);
        try {
            SkippedRows expected = new SkippedRows(600, 10, List.of("3 rows have a null in userCol 'customer'",
                    "2 rows have a null in itemCol 'product'", "1 row has a null in timestampCol 'seconds'",
                    "4 rows have a null, NaN or infinite value in queryFeatures 'spend:numeric' column 'spend'"));
            assertEquals(expected, model.skippedRows());
            model.write().save(tmp.resolve("model").toString());
            TwoTowerRetrievalModel loaded = TwoTowerRetrievalModel.load(tmp.resolve("model").toString());
            assertEquals(expected, loaded.skippedRows());
            loaded.release();
        } finally {
            model.release();
        }
    }

    @TempDir
    Path tmp;
}
