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
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Joins to item or user tables count what they drop and refuse a table that would repeat interactions. */
class CountedJoinTest {
    private static final StructType INTERACTIONS = new StructType().add("user", DataTypes.StringType)
            .add("item", DataTypes.StringType);
    private static final StructType ITEMS = new StructType().add("item", DataTypes.StringType)
            .add("name", DataTypes.StringType);

    private static Dataset<Row> interactions(SparkSession spark) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            rows.add(RowFactory.create("u" + i % 7, "i" + i % 10)); // 10 rows for each of i0..i9
        }
        return spark.createDataFrame(rows, INTERACTIONS);
    }

    @Test
    void anInnerJoinCountsTheInteractionsWhoseItemTheTableLacks() {
        SparkSession spark = TestSpark.session();
        List<Row> items = new ArrayList<>();
        for (int i = 0; i < 8; i++) { // i8 and i9 are missing: 20 interactions
            items.add(RowFactory.create("i" + i, "name " + i));
        }
        CountedJoin.Result inner = CountedJoin.join(interactions(spark), spark.createDataFrame(items, ITEMS), "item", true, "items");
        assertEquals(20, inner.dropped());
        assertEquals(80, inner.rows().count());
        CountedJoin.Result left = CountedJoin.join(interactions(spark), spark.createDataFrame(items, ITEMS), "item", false, "items");
        assertEquals(0, left.dropped());
        assertEquals(100, left.rows().count());
        assertEquals(20, left.rows().filter("name IS NULL").count());
    }

    @Test
    void aTableWithTwoRowsForOneKeyIsAnErrorNamingIt() {
        SparkSession spark = TestSpark.session();
        List<Row> items = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            items.add(RowFactory.create("i" + i, "name " + i));
        }
        items.add(RowFactory.create("i4", "another name"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CountedJoin.join(
                interactions(spark), spark.createDataFrame(items, ITEMS), "item", true, "--items items.csv"));
        assertTrue(e.getMessage().contains("--items items.csv") && e.getMessage().contains("'i4' (2 rows)"), e.getMessage());
    }
}
