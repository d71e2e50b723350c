package io.deepretrieval.spark.eval;

import io.deepretrieval.spark.TestSpark;
import io.deepretrieval.spark.preprocess.KeyColumns;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.struct;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The next-item protocol on a hand-worked example: each test row is a query whose history is everything the user
 * had strictly before it (training and earlier test rows), the history's items are dropped from the ranking before
 * the first K are scored, and a query without recommendations scores 0 and is counted.
 */
class NextItemQueriesTest {
    private static final StructType ROWS = new StructType().add(KeyColumns.USER, DataTypes.StringType)
            .add(KeyColumns.ITEM, DataTypes.StringType).add(KeyColumns.TIME, DataTypes.LongType);
    /** What the constant recommender answers, best first. */
    private static final String[] LIST = {"a", "e", "c", "d", "f", "x"};

    private static Dataset<Row> rows(SparkSession spark, Object[]... rows) {
        List<Row> out = new ArrayList<>();
        for (Object[] r : rows) {
            out.add(RowFactory.create(r[0], r[1], ((Number) r[2]).longValue()));
        }
        return spark.createDataFrame(out, ROWS);
    }

    private static Dataset<Row> train(SparkSession spark) {
        return rows(spark, new Object[]{"u1", "a", 1}, new Object[]{"u1", "b", 2});
    }

    private static Dataset<Row> test(SparkSession spark) {
        // u1's c and d share an instant: neither is in the other's history. u2 has no training rows at all.
        return rows(spark, new Object[]{"u1", "c", 3}, new Object[]{"u1", "d", 3}, new Object[]{"u1", "e", 5},
                new Object[]{"u2", "f", 4}, new Object[]{"u2", "a", 6}, new Object[]{"u2", "a", 6});
    }

    /** Every query gets {@link #LIST}, whatever its history; {@code asked} records the n it was asked for. */
    private static NextItemQueries.Recommender constant(AtomicInteger asked) {
        return (queries, n) -> {
            asked.set(n);
            List<Column> recs = new ArrayList<>();
            for (int i = 0; i < LIST.length; i++) {
                recs.add(struct(lit(LIST[i]).as("item"), lit((double) (LIST.length - i)).as("score")));
            }
            return queries.select(col(NextItemQueries.QUERY), array(recs.toArray(Column[]::new))
                    .as(RankingMetrics.RECOMMENDATIONS));
        };
    }

    private static Map<String, List<String>> histories(NextItemQueries q) {
        Map<String, List<String>> out = new HashMap<>();
        for (Row r : q.queries().collectAsList()) {
            out.put(r.getString(0), r.getList(2));
        }
        return out;
    }

    private static double ndcgAt(int position) {
        return Math.log(2) / Math.log(position + 1);
    }

    @Test
    void eachTestRowIsAQueryWithEverythingTheUserHadBeforeIt() {
        SparkSession spark = TestSpark.session();
        NextItemQueries q = NextItemQueries.of(train(spark), test(spark));
        // The duplicate test row of u2 is one query.
        assertEquals(5, q.count());
        assertEquals(Map.of("u1@3#c", List.of("a", "b"), "u1@3#d", List.of("a", "b"), "u1@5#e", List.of("a", "b", "c", "d"),
                "u2@4#f", List.of(), "u2@6#a", List.of("f")), histories(q));
        assertEquals(4, q.longestHistory());
        Map<String, String> relevant = new HashMap<>();
        q.relevant().collectAsList().forEach(r -> relevant.put(r.getString(0), r.getString(1)));
        assertEquals(Map.of("u1@3#c", "c", "u1@3#d", "d", "u1@5#e", "e", "u2@4#f", "f", "u2@6#a", "a"), relevant);
        // With a length, only the latest items (ties at one instant: the larger id counts as the later).
        assertEquals(List.of("d"), histories(NextItemQueries.of(train(spark), test(spark), 1)).get("u1@5#e"));
    }

    @Test
    void historyItemsAreDroppedBeforeTheFirstKAreScored() {
        SparkSession spark = TestSpark.session();
        NextItemQueries q = NextItemQueries.of(train(spark), test(spark));
        AtomicInteger asked = new AtomicInteger();
        RankingMetrics.Result r = q.evaluate(constant(asked), 3);
        assertEquals(3 + 4, asked.get(), "K plus the longest history");
        // Worked by hand, LIST without each history, first 3:
        // c@3 [e, c, d]: c 2nd; d@3 [e, c, d]: d 3rd; e@5 [e, f, x]: 1st; f@4 [a, e, c]: miss; a@6 [a, e, c]: 1st.
        assertEquals(5, r.users());
        assertEquals(0, r.usersWithoutRecommendations());
        assertEquals(4 / 5.0, r.recallAtK(), 1e-12);
        assertEquals((ndcgAt(2) + ndcgAt(3) + 1 + 0 + 1) / 5, r.ndcgAtK(), 1e-9);
        // At K = 1 only e@5 and a@6 hit: without the drop, a (u1's training item) would take every first place.
        RankingMetrics.Result first = q.evaluate(constant(asked), 1);
        assertEquals(2 / 5.0, first.recallAtK(), 1e-12);
    }

    @Test
    void aQueryWithoutRecommendationsScoresZeroAndIsCounted() {
        SparkSession spark = TestSpark.session();
        NextItemQueries q = NextItemQueries.of(train(spark), test(spark));
        NextItemQueries.Recommender onlyU1 = (queries, n) -> constant(new AtomicInteger()).recommend(queries, n)
                .join(queries.filter(col(NextItemQueries.USER).equalTo("u1")).select(NextItemQueries.QUERY),
                        NextItemQueries.QUERY);
        RankingMetrics.Result r = q.evaluate(onlyU1, 3);
        assertEquals(5, r.users(), "u2's queries stay in the average");
        assertEquals(2, r.usersWithoutRecommendations());
        assertEquals(3 / 5.0, r.recallAtK(), 1e-12);
    }

    @Test
    void aRecommenderWithoutTheQueryColumnIsNamed() {
        SparkSession spark = TestSpark.session();
        NextItemQueries q = NextItemQueries.of(train(spark), test(spark));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> q.evaluate((queries, n) -> queries.select(NextItemQueries.USER), 3));
        assertTrue(e.getMessage().contains("'query'"), e.getMessage());
    }
}
