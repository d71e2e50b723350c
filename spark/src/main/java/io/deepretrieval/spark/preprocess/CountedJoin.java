package io.deepretrieval.spark.preprocess;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;

/**
 * Joins of interactions to a table of one row per key (items, users) that say what they do to the rows: a key
 * with two rows in the table would multiply interactions, so it is an error naming the key; interactions whose
 * key the table lacks are counted and logged when an inner join drops them.
 */
public final class CountedJoin {
    private static final Logger LOG = LoggerFactory.getLogger(CountedJoin.class);

    private CountedJoin() {
    }

    /** The joined rows and the number of left rows the join dropped (always 0 for a left join). */
    public record Result(Dataset<Row> rows, long dropped) {
    }

    /**
     * {@code left} joined to {@code table} on {@code key}, inner (rows whose key {@code table} lacks are dropped,
     * counted and logged) or left outer (they keep nulls). {@code what} names the table in messages, e.g.
     * {@code "--items items.csv"}.
     */
    public static Result join(Dataset<Row> left, Dataset<Row> table, String key, boolean inner, String what) {
        List<Row> repeated = table.groupBy(col(key)).agg(count("*").as("n")).filter(col("n").gt(1))
                .orderBy(col(key)).limit(3).collectAsList();
        if (!repeated.isEmpty()) {
            throw new IllegalArgumentException(what + ": " + key + " " + repeated.stream()
                    .map(r -> "'" + r.get(0) + "' (" + r.getLong(1) + " rows)").toList()
                    + " appear more than once; each " + key + " needs one row, or the join would repeat its interactions");
        }
        if (!inner) {
            return new Result(left.join(table, new String[]{key}, "left"), 0);
        }
        Dataset<Row> missing = left.join(table.select(key), new String[]{key}, "left_anti");
        long dropped = missing.count();
        if (dropped > 0) {
            List<Object> examples = missing.select(key).distinct().orderBy(key).limit(5).collectAsList()
                    .stream().map(r -> r.get(0)).toList();
            LOG.warn("{}: {} interactions dropped because their {} is missing from it, e.g. {}", what, dropped, key, examples);
        }
        return new Result(left.join(table, new String[]{key}, "inner"), dropped);
    }
}
