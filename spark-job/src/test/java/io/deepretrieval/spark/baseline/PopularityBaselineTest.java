package io.deepretrieval.spark.baseline;

import io.deepretrieval.model.metrics.FactorizedTopK;
import io.deepretrieval.spark.TestSpark;
import io.deepretrieval.spark.eval.NextItemQueries;
import io.deepretrieval.spark.preprocess.KeyColumns;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class PopularityBaselineTest {
    private static final StructType SCHEMA = new StructType().add("user_index", DataTypes.IntegerType)
            .add("candidate", DataTypes.IntegerType);

    private static Dataset<Row> rows(SparkSession spark, int[][] pairs) {
        return spark.createDataFrame(Arrays.stream(pairs).map(p -> RowFactory.create(p[0], p[1])).toList(), SCHEMA);
    }

    @Test
    void ranksByTrainingCountAndLeavesEachUsersTrainingItemsOutOfTheirList() {
        SparkSession spark = TestSpark.session();
        // Counts: item 0 three times, item 1 twice, item 2 once, item 3 never: the ranking is 0, 1, 2, 3.
        Dataset<Row> train = rows(spark, new int[][]{{0, 0}, {1, 0}, {2, 0}, {0, 1}, {1, 1}, {2, 2}});
        Dataset<Row> test = rows(spark, new int[][]{{0, 2}, {1, 2}, {2, 1}});
        PopularityBaseline.Result r = PopularityBaseline.score(train, test, 4, new FactorizedTopK(1, 2, 3), 1);
        // Over all candidates: item 2 is third, item 1 second.
        assertArrayEquals(new double[]{0, 1 / 3.0, 1}, r.test().accuracy(), 1e-12);
        // Per user, without their training items: users 0 and 1 get item 2 first, user 2 item 1: all hits at 1.
        assertEquals(3, r.ranking().users());
        assertEquals(1.0, r.ranking().recallAtK(), 1e-12);
        assertEquals(1.0, r.ranking().ndcgAtK(), 1e-12);
    }

    @Test
    void nextItemQueriesAllGetTheTrainingCountsOrderTiesToTheSmallerId() {
        SparkSession spark = TestSpark.session();
        StructType keys = new StructType().add(KeyColumns.USER, DataTypes.StringType)
                .add(KeyColumns.ITEM, DataTypes.StringType).add(KeyColumns.TIME, DataTypes.LongType);
        // Counts: c three times, a and b twice each (a tie), d once.
        Dataset<Row> train = spark.createDataFrame(List.of(RowFactory.create("u1", "c", 1L), RowFactory.create("u2", "c", 1L),
                RowFactory.create("u3", "c", 1L), RowFactory.create("u1", "b", 2L), RowFactory.create("u2", "b", 2L),
                RowFactory.create("u1", "a", 3L), RowFactory.create("u3", "a", 3L), RowFactory.create("u2", "d", 4L)), keys);
        StructType queryColumns = new StructType().add(NextItemQueries.QUERY, DataTypes.StringType)
                .add(NextItemQueries.USER, DataTypes.StringType)
                .add(NextItemQueries.HISTORY, DataTypes.createArrayType(DataTypes.StringType));
        Dataset<Row> queries = spark.createDataFrame(List.of(RowFactory.create("q1", "u1", List.of("c")),
                RowFactory.create("q2", "new", List.of())), queryColumns);
        List<Row> out = PopularityBaseline.recommendForQueries(train, queries, 3).collectAsList();
        assertEquals(2, out.size());
        for (Row r : out) {
            List<Row> list = r.getList(1);
            assertEquals(List.of("c", "a", "b"), list.stream().map(rec -> rec.getString(0)).toList(), r.getString(0));
            assertEquals(List.of(3.0, 2.0, 2.0), list.stream().map(rec -> rec.getDouble(1)).toList());
        }
    }
}
