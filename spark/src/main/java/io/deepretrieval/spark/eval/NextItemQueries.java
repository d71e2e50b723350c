package io.deepretrieval.spark.eval;

import io.deepretrieval.spark.preprocess.InteractionHistories;
import io.deepretrieval.spark.preprocess.KeyColumns;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructType;

import java.util.Arrays;
import java.util.List;

import static org.apache.spark.sql.functions.array_contains;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.filter;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.slice;

/**
 * The next-item protocol of a temporal split: every test interaction (u, i, t) is one query, asked with what was
 * known at its time. The query's history is the user's items strictly before t among the training rows and the
 * earlier test rows (the data available at query time; {@link InteractionHistories#before}, oldest first), the
 * relevant item is i alone, and the history's items are left out of the ranking (a user does not need to be
 * recommended what they already had). Recall@K and NDCG@K are averaged over queries by {@link RankingMetrics},
 * with the query id in the place of the user.
 *
 * <p>This asks what a per-user ranking at the end of the training period cannot: how well a model follows a user
 * through the test period, including users whose every row is a test row (on a temporal split most test users),
 * whose history is their own earlier test rows.
 *
 * <p>Rows are in {@link KeyColumns}: user and item ids as strings, the time a long. Identical test rows (the same
 * user, item and time) make one query. A query id is {@code user@time#item}.
 */
public final class NextItemQueries {
    /** The query id column. */
    public static final String QUERY = "query";
    /** The user id column of the queries (the real user, whose model state a recommender may read). */
    public static final String USER = "user";
    /** The history column of the queries: array of item ids, oldest first. */
    public static final String HISTORY = "history";
    /** The relevant item column of {@link #relevant()}, and the item field a recommender should name. */
    public static final String ITEM = "item";
    /** The score field a recommender should name. */
    public static final String SCORE = "score";

    /**
     * What the protocol scores, and the hook through which any model (a baseline, the towers) answers it: given
     * the queries ({@value #QUERY}, {@value #USER}, {@value #HISTORY}), return per query its best items in ALS's
     * output schema: {@value #QUERY} and {@value RankingMetrics#RECOMMENDATIONS}, an {@code array<struct<item,
     * score>>}, best first (the first field is the item, its id of any type compared as a string). The protocol
     * then drops the items in the query's history and scores the first K that remain, so return up to {@code n}
     * items (K plus the longest history, which suffices however many of them are history items), or K if the
     * history's items are already left out. A query with no row or an empty list counts 0.
     */
    @FunctionalInterface
    public interface Recommender {
        /**
         * @param queries the queries: {@value #QUERY}, {@value #USER}, {@value #HISTORY}
         * @param n       how many items per query are enough
         */
        Dataset<Row> recommend(Dataset<Row> queries, int n);
    }

    private final Dataset<Row> rows;
    private final long count;
    private final int longestHistory;

    private NextItemQueries(Dataset<Row> rows) {
        this.rows = rows;
        Row stats = rows.agg(functions.count(lit(1)), max(size(col(HISTORY)))).first();
        this.count = stats.getLong(0);
        this.longestHistory = stats.isNullAt(1) ? 0 : stats.getInt(1);
    }

    /**
     * The queries of {@code test} with complete histories: every item the user has strictly before the query's
     * time in {@code train} or {@code test}. The history length is the most rows any user has, so the cost grows
     * with the square of the longest user's rows (fine for MovieLens; for longer histories use
     * {@link #of(Dataset, Dataset, int)}).
     */
    public static NextItemQueries of(Dataset<Row> train, Dataset<Row> test) {
        Dataset<Row> source = source(train, test);
        Row most = source.groupBy(col(KeyColumns.USER)).count().agg(max("count")).first();
        return build(source, test.select(keys()), most.isNullAt(0) ? 1 : Math.toIntExact(Math.max(1, most.getLong(0))));
    }

    /**
     * The queries of {@code test} with the user's {@code historyLength} most recent items before each query's time
     * in {@code train} or {@code test}; only those items are left out of the ranking.
     */
    public static NextItemQueries of(Dataset<Row> train, Dataset<Row> test, int historyLength) {
        return build(source(train, test), test.select(keys()), historyLength);
    }

    private static NextItemQueries build(Dataset<Row> source, Dataset<Row> test, int historyLength) {
        Dataset<Row> queries = test.distinct().withColumn(QUERY, concat(col(KeyColumns.USER), lit("@"),
                col(KeyColumns.TIME).cast("string"), lit("#"), col(KeyColumns.ITEM)));
        Dataset<Row> rows = InteractionHistories.before(queries, source, historyLength, HISTORY)
                .select(col(QUERY), col(KeyColumns.USER).as(USER), col(HISTORY), col(KeyColumns.ITEM).as(ITEM))
                .cache();
        return new NextItemQueries(rows);
    }

    /** The queries a {@link Recommender} answers: {@value #QUERY}, {@value #USER}, {@value #HISTORY}. */
    public Dataset<Row> queries() {
        return rows.select(QUERY, USER, HISTORY);
    }

    /** Each query's relevant item: {@value #QUERY}, {@value #ITEM}. */
    public Dataset<Row> relevant() {
        return rows.select(QUERY, ITEM);
    }

    /** The number of queries. */
    public long count() {
        return count;
    }

    /** The most items a query's history holds. */
    public int longestHistory() {
        return longestHistory;
    }

    /**
     * Recall@{@code k}, NDCG@{@code k} (and precision, MAP) averaged over the queries: the recommender is asked for
     * {@code k} plus {@link #longestHistory()} items per query, the items of each query's history are dropped and
     * the first {@code k} left are scored against the relevant item. Queries without recommendations are counted
     * in {@link RankingMetrics.Result#usersWithoutRecommendations()}.
     */
    public RankingMetrics.Result evaluate(Recommender recommender, int k) {
        if (k < 1) {
            throw new IllegalArgumentException("k: must be >= 1, got " + k);
        }
        Dataset<Row> recommended = recommender.recommend(queries(), Math.addExact(k, longestHistory));
        String item = itemField(recommended);
        // Higher-order functions on each row's own arrays: no explode, so a long history is not copied per item.
        Column fresh = filter(col(RankingMetrics.RECOMMENDATIONS),
                r -> not(array_contains(col(HISTORY), r.getField(item).cast("string"))));
        Dataset<Row> kept = recommended.join(rows.select(QUERY, HISTORY), QUERY)
                .select(col(QUERY), slice(fresh, 1, k).as(RankingMetrics.RECOMMENDATIONS));
        return new RankingMetrics(QUERY, ITEM).evaluate(kept, relevant(), k);
    }

    /** Frees the cached queries. */
    public void release() {
        rows.unpersist();
    }

    private static Column[] keys() {
        return new Column[]{col(KeyColumns.USER).cast("string").as(KeyColumns.USER),
                col(KeyColumns.ITEM).cast("string").as(KeyColumns.ITEM),
                col(KeyColumns.TIME).cast("long").as(KeyColumns.TIME)};
    }

    private static Dataset<Row> source(Dataset<Row> train, Dataset<Row> test) {
        return train.select(keys()).unionByName(test.select(keys()));
    }

    /** The item field of the recommendations (their struct's first), after checking the columns. */
    private static String itemField(Dataset<Row> recommended) {
        List<String> columns = Arrays.asList(recommended.columns());
        if (!columns.contains(QUERY) || !columns.contains(RankingMetrics.RECOMMENDATIONS)) {
            throw new IllegalArgumentException("recommendations: need columns '" + QUERY + "' and '"
                    + RankingMetrics.RECOMMENDATIONS + "', got " + columns);
        }
        DataType type = recommended.schema().apply(RankingMetrics.RECOMMENDATIONS).dataType();
        if (type instanceof ArrayType a && a.elementType() instanceof StructType s && s.fields().length > 0) {
            return s.fields()[0].name();
        }
        throw new IllegalArgumentException("recommendations: column '" + RankingMetrics.RECOMMENDATIONS
                + "' must be array<struct<item, score>>, got " + type.simpleString());
    }
}
