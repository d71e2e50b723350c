package io.deepretrieval.spark.preprocess;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;
import org.apache.spark.sql.types.DataTypes;

import java.util.Arrays;
import java.util.List;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.flatten;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.last;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.slice;
import static org.apache.spark.sql.functions.sort_array;
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

    private InteractionHistories() {
    }

    /**
     * {@code queries} with a column {@code historyColumn} (array of item ids, oldest first, at most {@code n}, empty
     * when the user has no earlier source row): the user's items in {@code source} strictly before the query's time.
     *
     * @param queries rows with {@link KeyColumns#USER} and {@link KeyColumns#TIME}, any other columns kept as they are
     * @param source  the interactions the history may read ({@link KeyColumns#USER}, {@link KeyColumns#ITEM},
     *                {@link KeyColumns#TIME}): the leakage rule of the caller decides which rows these are
     */
    public static Dataset<Row> before(Dataset<Row> queries, Dataset<Row> source, int n, String historyColumn) {
        checkLength(n);
        if (Arrays.asList(queries.columns()).contains(historyColumn)) {
            throw new IllegalArgumentException("history column '" + historyColumn + "' is already in the rows "
                    + Arrays.toString(queries.columns()) + "; rename the column or the feature");
        }
        Dataset<Row> instants = latestPerInstant(source, n);
        // One stream per user: the queries (order 0) before the instants (order 1) at equal times.
        Dataset<Row> q = queries.withColumn(ROW, lit(true)).withColumn(ORDER, lit(0))
                .withColumn(LIST, lit(null).cast(DataTypes.createArrayType(DataTypes.StringType)));
        Dataset<Row> s = instants.withColumn(ROW, lit(false)).withColumn(ORDER, lit(1));
        Dataset<Row> stream = q.unionByName(s, true);
        WindowSpec upToHere = Window.partitionBy(col(KeyColumns.USER)).orderBy(col(KeyColumns.TIME), col(ORDER))
                .rowsBetween(Window.unboundedPreceding(), Window.currentRow());
        Column latest = last(col(LIST), true).over(upToHere);
        return stream.withColumn(historyColumn,
                        coalesce(latest, array().cast(DataTypes.createArrayType(DataTypes.StringType))))
                .filter(col(ROW)).drop(ROW, ORDER, LIST);
    }

    /**
     * {@link #before} into several columns at once: each of {@code columns} gets the same history of the longest
     * length asked ({@code n}); a feature reading fewer items takes the last ones when it encodes them.
     */
    public static Dataset<Row> before(Dataset<Row> queries, Dataset<Row> source, int n, List<String> columns) {
        String first = columns.get(0);
        Dataset<Row> out = before(queries, source, n, first);
        for (String c : columns.subList(1, columns.size())) {
            out = out.withColumn(c, col(first));
        }
        return out;
    }

    /**
     * Per user of {@code source}, its {@code n} most recent items (oldest first) in column {@code historyColumn}:
     * the history a query made after every source row reads. Columns: {@link KeyColumns#USER}, {@code historyColumn}.
     */
    public static Dataset<Row> latest(Dataset<Row> source, int n, String historyColumn) {
        checkLength(n);
        Dataset<Row> instants = latestPerInstant(source, n);
        WindowSpec last = Window.partitionBy(col(KeyColumns.USER)).orderBy(col(KeyColumns.TIME).desc());
        return instants.withColumn(ROW, row_number().over(last))
                .filter(col(ROW).equalTo(1))
                .select(col(KeyColumns.USER), col(LIST).as(historyColumn));
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

    private static void checkLength(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("history length must be >= 1, got " + n);
        }
    }
}
