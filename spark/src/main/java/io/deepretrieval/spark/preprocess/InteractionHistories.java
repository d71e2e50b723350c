package io.deepretrieval.spark.preprocess;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.storage.StorageLevel;

import java.util.Arrays;
import java.util.List;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.flatten;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.last;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.slice;
import static org.apache.spark.sql.functions.reverse;
import static org.apache.spark.sql.functions.sort_array;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.transform;
import static org.apache.spark.sql.functions.row_number;

/**
 * Each interaction's history: the user's up to {@code n} most recent items strictly before its time, oldest first,
 * computed on the executors with window functions (nothing is collected).
 *
 * <p>How, in O(rows × n) rather than comparing every pair of a user's rows: the source rows are first grouped by
 * (user, time), the items of one instant sorted by id (the deterministic order of ties: the largest id counts as the
 * most recent); a window over each user's instants then gives, per instant, the last {@code n} items up to and
 * including it (the {@code n} latest instants hold at least {@code n} items). A query at time t takes the list of the
 * latest instant strictly before t: query rows and instants are ordered by time with the query first at equal times,
 * and the query reads the last non-null list before it. So a row never sees itself nor anything at its own instant.
 *
 * <p>Columns are those of {@link KeyColumns}: user and item ids as strings, the time as a long.
 */
public final class InteractionHistories {
    private static final String LIST = "__history_list";
    private static final String ORDER = "__history_order";
    private static final String ITEMS = "__history_items";
    private static final String ROW = "__history_row";

    /** Per (user, time) of the source, the user's last {@code length} items up to and including it, in {@link #LIST}. */
    private final Dataset<Row> instants;
    private final int length;

    private InteractionHistories(Dataset<Row> instants, int length) {
        this.instants = instants;
        this.length = length;
    }

    /**
     * The histories of at most {@code n} items that {@code source} gives: the interactions a history may read
     * ({@link KeyColumns#USER}, {@link KeyColumns#ITEM}, {@link KeyColumns#TIME}); the leakage rule of the caller
     * decides which rows these are. Nothing is computed until a result is used; {@link #persist()} keeps the
     * per-instant lists for several uses.
     */
    public static InteractionHistories of(Dataset<Row> source, int n) {
        if (n < 1) {
            throw new IllegalArgumentException("history length must be >= 1, got " + n);
        }
        return new InteractionHistories(latestPerInstant(source, n), n);
    }

    /** The most items a history holds. */
    public int length() {
        return length;
    }

    /** Keeps the per-instant lists (memory and disk) once computed, so that later results do not recompute them. */
    public InteractionHistories persist() {
        instants.persist(StorageLevel.MEMORY_AND_DISK());
        return this;
    }

    /** Releases what {@link #persist()} kept. */
    public void unpersist() {
        instants.unpersist();
    }

    /**
     * {@code queries} with columns {@code historyColumns} (each the same array of item ids, oldest first, at most
     * {@link #length()}, empty when the user has no earlier source row): the user's items in the source strictly
     * before the query's time. A feature reading fewer items takes the last ones when it encodes them.
     *
     * @param queries rows with {@link KeyColumns#USER} and {@link KeyColumns#TIME}, any other columns kept as they are
     */
    public Dataset<Row> before(Dataset<Row> queries, List<String> historyColumns) {
        checkAbsent(queries, historyColumns);
        // One stream per user: the queries (order 0) before the instants (order 1) at equal times.
        Dataset<Row> q = queries.withColumn(ROW, lit(true)).withColumn(ORDER, lit(0))
                .withColumn(LIST, lit(null).cast(DataTypes.createArrayType(DataTypes.StringType)));
        Dataset<Row> s = instants.withColumn(ROW, lit(false)).withColumn(ORDER, lit(1));
        WindowSpec upToHere = Window.partitionBy(col(KeyColumns.USER)).orderBy(col(KeyColumns.TIME), col(ORDER))
                .rowsBetween(Window.unboundedPreceding(), Window.currentRow());
        Column latest = coalesce(last(col(LIST), true).over(upToHere),
                array().cast(DataTypes.createArrayType(DataTypes.StringType)));
        Dataset<Row> out = q.unionByName(s, true);
        for (String c : historyColumns) {
            out = out.withColumn(c, latest);
        }
        return out.filter(col(ROW)).drop(ROW, ORDER, LIST);
    }

    /**
     * Per user of the source, its most recent items (oldest first, at most {@link #length()}) in column
     * {@code historyColumn}: the history a query made after every source row reads. Columns:
     * {@link KeyColumns#USER}, {@code historyColumn}.
     */
    public Dataset<Row> latest(String historyColumn) {
        WindowSpec last = Window.partitionBy(col(KeyColumns.USER)).orderBy(col(KeyColumns.TIME).desc());
        return instants.withColumn(ROW, row_number().over(last))
                .filter(col(ROW).equalTo(1))
                .select(col(KeyColumns.USER), col(LIST).as(historyColumn));
    }

    /**
     * {@code queries} with columns {@code historyColumns}: each query's user's latest source items
     * ({@link #latest}), whatever the query's time; empty for a user without source rows. What a query made after
     * every source row reads, as the model's kept histories give it.
     */
    public Dataset<Row> latestFor(Dataset<Row> queries, List<String> historyColumns) {
        checkAbsent(queries, historyColumns);
        Dataset<Row> byUser = latest(LIST).withColumnRenamed(KeyColumns.USER, ROW);
        Dataset<Row> out = queries.join(byUser, queries.col(KeyColumns.USER).equalTo(byUser.col(ROW)), "left");
        Column list = coalesce(col(LIST), array().cast(DataTypes.createArrayType(DataTypes.StringType)));
        for (String c : historyColumns) {
            out = out.withColumn(c, list);
        }
        return out.drop(ROW, LIST);
    }

    /**
     * {@code rows} with columns {@code historyColumns}: each row's user's {@code n} latest rows of {@code rows}
     * other than the row itself (oldest first; ties in time ordered by item id as in {@link #before}), whatever
     * its time: a profile of the user's other interactions, the history a query made after all of them reads, so
     * that training rows see what {@link #latestFor} gives at query time. A repeated (user, item, time) row leaves
     * out one of its copies.
     */
    public static Dataset<Row> profile(Dataset<Row> rows, int n, List<String> historyColumns) {
        if (n < 1) {
            throw new IllegalArgumentException("history length must be >= 1, got " + n);
        }
        checkAbsent(rows, historyColumns);
        WindowSpec newestFirst = Window.partitionBy(col(KeyColumns.USER))
                .orderBy(col(KeyColumns.TIME).desc(), col(KeyColumns.ITEM).cast("string").desc());
        Dataset<Row> ranked = rows.withColumn(ORDER, row_number().over(newestFirst));
        // Per user, the n + 1 newest items, newest first: a row among them leaves itself out, any other takes n.
        Dataset<Row> newest = ranked.filter(col(ORDER).leq(n + 1))
                .groupBy(col(KeyColumns.USER).as(ROW))
                .agg(sort_array(collect_list(struct(col(ORDER), col(KeyColumns.ITEM).cast("string").as("item")))).as(ITEMS))
                .select(col(ROW), transform(col(ITEMS), e -> e.getField("item")).as(ITEMS));
        Dataset<Row> out = ranked.join(newest, ranked.col(KeyColumns.USER).equalTo(newest.col(ROW)), "left");
        Column others = reverse(slice(expr("filter(" + ITEMS + ", (x, i) -> i != " + ORDER + " - 1)"), 1, n));
        for (String c : historyColumns) {
            out = out.withColumn(c, others);
        }
        return out.drop(ROW, ITEMS, ORDER);
    }

    private static void checkAbsent(Dataset<Row> rows, List<String> historyColumns) {
        for (String c : historyColumns) {
            if (Arrays.asList(rows.columns()).contains(c)) {
                throw new IllegalArgumentException("history column '" + c + "' is already in the rows "
                        + Arrays.toString(rows.columns()) + "; rename the column or the feature");
            }
        }
    }

    /** {@code of(source, n).before(queries, [historyColumn])}: one query set's histories. */
    public static Dataset<Row> before(Dataset<Row> queries, Dataset<Row> source, int n, String historyColumn) {
        return of(source, n).before(queries, List.of(historyColumn));
    }

    /** {@code of(source, n).latest(historyColumn)}: each user's latest items. */
    public static Dataset<Row> latest(Dataset<Row> source, int n, String historyColumn) {
        return of(source, n).latest(historyColumn);
    }

    /** Per (user, time) of the source, the user's last {@code n} items up to and including that time, in {@link #LIST}. */
    private static Dataset<Row> latestPerInstant(Dataset<Row> source, int n) {
        Dataset<Row> grouped = source.filter(col(KeyColumns.ITEM).isNotNull())
                .groupBy(col(KeyColumns.USER), col(KeyColumns.TIME))
                .agg(sort_array(collect_list(col(KeyColumns.ITEM).cast("string"))).as(ITEMS));
        // The n latest instants hold at least n items; the frame is ordered, so the lists concatenate oldest first.
        WindowSpec lastInstants = Window.partitionBy(col(KeyColumns.USER)).orderBy(col(KeyColumns.TIME))
                .rowsBetween(-(n - 1), Window.currentRow());
        Column all = flatten(collect_list(col(ITEMS)).over(lastInstants));
        Column kept = slice(all, greatest(lit(1), size(all).minus(n - 1)), lit(n));
        return grouped.select(col(KeyColumns.USER), col(KeyColumns.TIME), kept.as(LIST));
    }

}
