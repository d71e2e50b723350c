package io.deepretrieval.spark.preprocess;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.MapType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.count_if;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.to_json;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

/**
 * Train/test splits of an interactions DataFrame (a user, an item and a timestamp column in seconds; any other
 * columns are kept): the tutorial's seeded random split, a global temporal cut-off, and leave-last-N per user.
 * Each split returns every input row exactly once, in train or in test, and is a function of the rows: duplicate
 * rows and the input's partitioning do not change which rows land on which side.
 */
public final class InteractionSplits {
    /** The pipeline's own key columns ({@link KeyColumns}), as the Estimator splits its rows. */
    public static final InteractionSplits KEYS = new InteractionSplits(KeyColumns.USER, KeyColumns.ITEM, KeyColumns.TIME);

    /** The relative error of the sketch that brackets {@link #quantileCutoff}'s answer (the answer itself is exact). */
    public static final double QUANTILE_ERROR = 1e-4;

    private final String userCol;
    private final String itemCol;
    private final String timestampCol;

    /** Splits over these columns (user and item ids of any type, the timestamp an integral number of seconds). */
    public InteractionSplits(String userCol, String itemCol, String timestampCol) {
        this.userCol = userCol;
        this.itemCol = itemCol;
        this.timestampCol = timestampCol;
    }

    /** Train and test rows. */
    public record Split(Dataset<Row> train, Dataset<Row> test) {
    }

    /**
     * Seeded shuffle, then the first {@code round(n * (1 - testFraction))} rows train and the rest test (the
     * tutorial's 80,000 / 20,000 on MovieLens 100k); both parts come in that shuffled order.
     *
     * <p>The order is a function of the rows alone, so the split is the same however Spark partitions or re-reads
     * them: first {@code xxhash64(seed, user, item, timestamp)}, then the user, item and timestamp, then every other
     * column. Only identical rows tie, and which copy of an identical row lands where cannot change either side.
     * The hash covers only the key columns so that the same interactions split alike whatever other columns ride
     * along (the Estimator's encoded rows and the ALS baseline's bare keys hold out the same interactions).
     *
     * <p>The sorted, numbered rows are computed once and persisted (executor memory and disk, freed by Spark's
     * cleaner once nothing references the split; a lost executor's blocks are recomputed, to the same numbering
     * since the order is total), and both sides read them, so using a side again costs no sort. A zero {@code testFraction} sorts
     * nothing: the input itself trains, and test is empty.
     */
    public Split random(Dataset<Row> interactions, long seed, double testFraction) {
        check(interactions);
        if (!(testFraction >= 0 && testFraction < 1)) {
            throw new IllegalArgumentException("testFraction: must be in [0, 1), got " + testFraction);
        }
        if (testFraction == 0) {
            // The Estimator without a validation set: nothing to hold out, so no reason to pay for a global sort.
            return new Split(interactions, interactions.where(lit(false)));
        }
        List<Column> order = new ArrayList<>(List.of(
                xxhash64(lit(seed), col(userCol), col(itemCol), col(timestampCol)),
                col(userCol), col(itemCol), col(timestampCol)));
        order.addAll(otherColumns(interactions));
        Dataset<Row> ordered = interactions.orderBy(order.toArray(Column[]::new));
        StructType schema = ordered.schema().add("_row", DataTypes.LongType, false);
        // Numbering the sorted rows fixes the cut at an exact row count (a filter on the hash could not).
        JavaRDD<Row> numbered = ordered.javaRDD().zipWithIndex().map(t -> {
            Object[] values = new Object[t._1().size() + 1];
            for (int i = 0; i < t._1().size(); i++) {
                values[i] = t._1().get(i);
            }
            values[values.length - 1] = t._2();
            return RowFactory.create(values);
        });
        // Persisted, not checkpointed locally: a lost executor's blocks are recomputed from the lineage, which gives
        // the same numbering because the order is total; Spark's cleaner drops the blocks with the split.
        Dataset<Row> rows = interactions.sparkSession().createDataFrame(numbered.persist(StorageLevel.MEMORY_AND_DISK()), schema);
        long trainRows = Math.round(rows.count() * (1 - testFraction));
        return new Split(rows.filter(col("_row").lt(trainRows)).drop("_row"),
                rows.filter(col("_row").geq(trainRows)).drop("_row"));
    }

    /**
     * A global time cut-off: rows with {@code timestamp < cutoffSeconds} train, the rest (at or after it) test.
     * A cut-off that leaves either part empty is an error naming it and the data's time range. Both parts are
     * filters of the input, so they are a function of its rows; cache the input if reading it is expensive.
     */
    public Split temporal(Dataset<Row> interactions, long cutoffSeconds) {
        check(interactions);
        Column ts = col(timestampCol);
        // One pass for every check: the nulls, each side's size and the time range for the message.
        Row counts = interactions.agg(count_if(ts.isNull()), count_if(ts.lt(cutoffSeconds)),
                count_if(ts.geq(cutoffSeconds)), min(ts), max(ts)).first();
        long nulls = counts.getLong(0);
        if (nulls > 0) {
            // A null time is neither before nor after the cut-off; dropping such rows silently would lose them.
            throw new IllegalArgumentException("column '" + timestampCol + "' is null in " + nulls
                    + " rows; a temporal split needs every row's time");
        }
        boolean noTrain = counts.getLong(1) == 0;
        if (noTrain || counts.getLong(2) == 0) {
            throw new IllegalArgumentException("cutoff: " + cutoffSeconds + " leaves the " + (noTrain ? "training" : "test")
                    + " set empty (" + timestampCol + " runs from " + counts.get(3) + " to " + counts.get(4)
                    + "; train is < cutoff, test >= cutoff)");
        }
        return new Split(interactions.filter(ts.lt(cutoffSeconds)), interactions.filter(ts.geq(cutoffSeconds)));
    }

    /**
     * A temporal split at a quantile of the timestamps: with the n rows in time order, the cut-off is the exact
     * timestamp of row {@code floor(quantile * n)} (0-based; see {@link #quantileCutoff}), so with distinct
     * timestamps {@code floor(quantile * n)} rows train; rows sharing the cut-off's timestamp all test.
     */
    public Split temporalQuantile(Dataset<Row> interactions, double quantile) {
        return temporal(interactions, quantileCutoff(interactions, quantile));
    }

    /**
     * The cut-off {@link #temporalQuantile} uses: the timestamp of row {@code floor(quantile * n)} in time order
     * (0-based, nulls left out). The answer is exact (no rank error), and no task or the driver gathers a share of
     * the rows (as a global sort or top-k would): {@code approxQuantile} (relative error {@value #QUANTILE_ERROR})
     * brackets the answer from per-partition sketches of bounded size, and a count of the rows below the bracket
     * plus a histogram of the distinct times inside it (the times of at most about {@code 6 * QUANTILE_ERROR * n}
     * rows: a few thousand for 10M rows) pins it down on the driver. Three passes over the timestamps; cache the
     * input if reading it is expensive.
     */
    public long quantileCutoff(Dataset<Row> interactions, double quantile) {
        check(interactions);
        if (!(quantile > 0 && quantile < 1)) {
            throw new IllegalArgumentException("quantile: must be between 0 and 1 (exclusive), got " + quantile);
        }
        Column ts = col(timestampCol).cast("long");
        Dataset<Row> times = interactions.select(ts.as("t")).filter(col("t").isNotNull());
        long n = times.count();
        if (n == 0) {
            throw new IllegalArgumentException("quantile " + quantile + ": column '" + timestampCol + "' holds no values");
        }
        long index = Math.min(n - 1, (long) Math.floor(quantile * n));
        double[] bracket = times.stat().approxQuantile("t", new double[]{Math.max(0, quantile - 2 * QUANTILE_ERROR),
                Math.min(1, quantile + 2 * QUANTILE_ERROR)}, QUANTILE_ERROR);
        // Doubles hold integral seconds exactly up to 2^53; rounding outwards keeps the bracket wide enough anyway.
        return timeAt(times, index, (long) Math.floor(bracket[0]), (long) Math.ceil(bracket[1]));
    }

    /**
     * The {@code index}-th smallest (0-based) of the column {@code t} of {@code times}, found in a histogram of the
     * times in {@code [lo, hi]} plus a count of those below {@code lo} (null bounds: unbounded). A bracket that
     * misses the answer opens up on the side that missed (at worst every distinct time comes to the driver)
     * rather than giving a wrong time.
     */
    static long timeAt(Dataset<Row> times, long index, Long lo, Long hi) {
        while (true) {
            Column below = lo == null ? lit(false) : col("t").lt(lo);
            Column inside = hi == null ? lit(true) : col("t").leq(hi);
            List<Row> histogram = times.filter(below.or(inside))
                    .groupBy(when(below, lit(null).cast("long")).otherwise(col("t")).as("t"))
                    .count().collectAsList();
            long before = 0;
            TreeMap<Long, Long> counts = new TreeMap<>();
            for (Row r : histogram) {
                if (r.isNullAt(0)) {
                    before = r.getLong(1);
                } else {
                    counts.put(r.getLong(0), r.getLong(1));
                }
            }
            if (before > index) {
                lo = null;
                continue;
            }
            for (Map.Entry<Long, Long> e : counts.entrySet()) {
                before += e.getValue();
                if (before > index) {
                    return e.getKey();
                }
            }
            if (hi == null) {
                throw new IllegalStateException("time " + index + " (0-based) asked of " + before
                        + " counted (did the input change between passes?)");
            }
            hi = null;
        }
    }

    /**
     * Leave-last-N per user: each user's {@code n} latest interactions test (latest by timestamp; equal timestamps
     * broken by the larger item id as the later one, in the item column's own order, then by the other columns
     * in descending order, so only identical rows tie and the split is a function of the rows), the rest train. A
     * user with {@code n} or fewer interactions keeps them all in train, as most recommender libraries do, so every
     * test user also has training history. The ranked rows are computed once and persisted, as in
     * {@link #random}.
     */
    public Split leaveLastN(Dataset<Row> interactions, int n) {
        check(interactions);
        if (n < 1) {
            throw new IllegalArgumentException("n: must be >= 1 (interactions held out per user), got " + n);
        }
        List<Column> latestFirst = new ArrayList<>(List.of(col(timestampCol).desc(), col(itemCol).desc()));
        otherColumns(interactions).forEach(c -> latestFirst.add(c.desc()));
        WindowSpec byUser = Window.partitionBy(col(userCol));
        Column held = row_number().over(byUser.orderBy(latestFirst.toArray(Column[]::new))).leq(n)
                .and(count(lit(1)).over(byUser).gt(n));
        Dataset<Row> marked = interactions.withColumn("_held", held);
        // Computed once for both sides (see random on why persisted rather than checkpointed).
        Dataset<Row> ranked = interactions.sparkSession().createDataFrame(
                marked.javaRDD().persist(StorageLevel.MEMORY_AND_DISK()), marked.schema());
        return new Split(ranked.filter(col("_held").unary_$bang()).drop("_held"), ranked.filter(col("_held")).drop("_held"));
    }

    /**
     * The columns other than user, item and timestamp, as sort keys that break every tie between rows that are
     * not identical. Maps cannot be sorted in Spark, so a map (or anything holding one) sorts by its JSON text.
     */
    private List<Column> otherColumns(Dataset<Row> interactions) {
        List<Column> keys = new ArrayList<>();
        for (StructField f : interactions.schema().fields()) {
            if (!List.of(userCol, itemCol, timestampCol).contains(f.name())) {
                keys.add(holdsMap(f.dataType()) ? to_json(col(f.name())) : col(f.name()));
            }
        }
        return keys;
    }

    private static boolean holdsMap(DataType type) {
        if (type instanceof MapType) {
            return true;
        }
        if (type instanceof ArrayType a) {
            return holdsMap(a.elementType());
        }
        if (type instanceof StructType s) {
            return Arrays.stream(s.fields()).anyMatch(f -> holdsMap(f.dataType()));
        }
        return false;
    }

    /**
     * The held-out split by name, as the Estimator's {@code validationSplit} names it: {@code random} (a seeded
     * {@code fraction}), {@code temporal} (the latest {@code fraction} by time) or {@code lastN} (each user's
     * {@code lastN} latest). The Estimator, its early-stopping slice and the experiment's ALS baseline all split
     * through here, so they hold out the same rows.
     */
    public Split holdOut(String kind, Dataset<Row> interactions, long seed, double fraction, int lastN) {
        return switch (kind) {
            case "temporal" -> {
                if (!(fraction > 0 && fraction < 1)) {
                    throw new IllegalArgumentException("a temporal split needs a fraction in (0, 1), got " + fraction);
                }
                yield temporalQuantile(interactions, 1 - fraction);
            }
            case "lastN" -> leaveLastN(interactions, lastN);
            case "random" -> random(interactions, seed, fraction);
            default -> throw new IllegalArgumentException("split '" + kind + "': must be random, temporal or lastN");
        };
    }

    private void check(Dataset<Row> interactions) {
        List<String> columns = Arrays.asList(interactions.columns());
        for (String c : new String[]{userCol, itemCol, timestampCol}) {
            if (!columns.contains(c)) {
                throw new IllegalArgumentException("column '" + c + "' is missing; the interactions have " + columns);
            }
        }
        DataType t = interactions.schema().apply(timestampCol).dataType();
        if (!(t.equals(DataTypes.LongType) || t.equals(DataTypes.IntegerType))) {
            throw new IllegalArgumentException("column '" + timestampCol + "' must hold integral seconds (long or int), got "
                    + t.simpleString());
        }
    }
}
