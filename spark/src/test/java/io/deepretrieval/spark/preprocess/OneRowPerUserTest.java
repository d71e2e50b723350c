package io.deepretrieval.spark.preprocess;

import io.deepretrieval.spark.TestSpark;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** One row per user is the latest, then the smallest, whatever the partitioning. */
class OneRowPerUserTest {
    @Test
    void picksTheLatestRowThenTheSmallestWhateverThePartitioning() {
        SparkSession spark = TestSpark.session();
        SplittableRandom rng = new SplittableRandom(7);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            // Few times and few segments: many rows of a user tie on the time.
            rows.add(RowFactory.create("u" + rng.nextInt(50), (long) rng.nextInt(5), "s" + rng.nextInt(4)));
        }
        StructType schema = new StructType().add("user", DataTypes.StringType).add("time", DataTypes.LongType)
                .add("segment", DataTypes.StringType);
        // Oracle: the latest time, then the smallest segment, in plain Java.
        Map<String, Row> expected = new HashMap<>();
        Comparator<Row> better = Comparator.<Row>comparingLong(r -> r.getLong(1)).reversed()
                .thenComparing(r -> r.getString(2));
        for (Row r : rows) {
            expected.merge(r.getString(0), r, (a, b) -> better.compare(a, b) <= 0 ? a : b);
        }
        for (int partitions : new int[]{1, 7}) {
            Dataset<Row> df = spark.createDataFrame(rows, schema).repartition(partitions);
            Map<String, Row> got = new HashMap<>();
            for (Row r : OneRowPerUser.latest(df, "user", "time").collectAsList()) {
                assertEquals(null, got.put(r.getString(0), r), "two rows for " + r.getString(0));
            }
            assertEquals(expected, got, partitions + " partitions");
        }
    }
}
