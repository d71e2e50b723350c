package io.deepretrieval.spark.preprocess;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.util.Arrays;
import java.util.List;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.xxhash64;

/**
 * Train/test splits of an interactions DataFrame (a user, an item and a timestamp column in seconds; any other
 * columns are kept): the tutorial's seeded random split, a global temporal cut-off, and leave-last-N per user.
 * Each split returns every input row exactly once, in train or in test.
 */
public final class InteractionSplits {
    /** The MovieLens columns: {@code user_id}, {@code movie_id}, {@code timestamp}. */
    public static final InteractionSplits DEFAULT = new InteractionSplits("user_id", "movie_id", "timestamp");

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
     * Seeded shuffle, then the first {@code 1 - testFraction} of rows train and the rest test (the tutorial's
     * 80,000 / 20,000 on MovieLens 100k). The order depends only on the seed and each rating's content, not on
     * how Spark partitioned the file; both parts come in that shuffled order.
     */
    public Split random(Dataset<Row> interactions, long seed, double testFraction) {
        check(interactions);
        // 0 is allowed: every row trains, in the seeded order (the Estimator without a validation set).
        if (!(testFraction >= 0 && testFraction < 1)) {
            throw new IllegalArgumentException("testFraction: must be in [0, 1), got " + testFraction);
        }
        Dataset<Row> ordered = interactions
                .withColumn("_order", xxhash64(lit(seed), col(userCol), col(itemCol), col(timestampCol)))
                .orderBy("_order", userCol, itemCol, timestampCol)
                .drop("_order");
        long n = ordered.count();
        long trainRows = Math.round(n * (1 - testFraction));
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
        Dataset<Row> rows = interactions.sparkSession().createDataFrame(numbered, schema);
        return new Split(rows.filter(col("_row").lt(trainRows)).drop("_row"),
                rows.filter(col("_row").geq(trainRows)).drop("_row"));
    }

    /**
     * A global time cut-off: rows with {@code timestamp < cutoffSeconds} train, the rest (at or after it) test.
     * A cut-off that leaves either part empty is an error naming it and the data's time range.
     */
    public Split temporal(Dataset<Row> interactions, long cutoffSeconds) {
        check(interactions);
        long nulls = interactions.filter(col(timestampCol).isNull()).count();
        if (nulls > 0) {
            // A null time is neither before nor after the cut-off; dropping such rows silently would lose them.
            throw new IllegalArgumentException("column '" + timestampCol + "' is null in " + nulls
                    + " rows; a temporal split needs every row's time");
        }
        Split split = new Split(interactions.filter(col(timestampCol).lt(cutoffSeconds)),
                interactions.filter(col(timestampCol).geq(cutoffSeconds)));
        boolean noTrain = split.train().isEmpty();
        if (noTrain || split.test().isEmpty()) {
            Row range = interactions.agg(org.apache.spark.sql.functions.min(timestampCol),
                    org.apache.spark.sql.functions.max(timestampCol)).first();
            throw new IllegalArgumentException("cutoff: " + cutoffSeconds + " leaves the " + (noTrain ? "training" : "test")
                    + " set empty (" + timestampCol + " runs from " + range.get(0) + " to " + range.get(1)
                    + "; train is < cutoff, test >= cutoff)");
        }
        return split;
    }

    /**
     * A temporal split at a quantile of the timestamps: with the n rows in time order, the cut-off is the exact
     * timestamp of row {@code floor(quantile * n)} (0-based; computed by a sort, not approximated), so with
     * distinct timestamps {@code floor(quantile * n)} rows train; rows sharing the cut-off's timestamp all test.
     */
    public Split temporalQuantile(Dataset<Row> interactions, double quantile) {
        return temporal(interactions, quantileCutoff(interactions, quantile));
    }

    /** The cut-off {@link #temporalQuantile} uses: the timestamp of row {@code floor(quantile * n)} in time order. */
    public long quantileCutoff(Dataset<Row> interactions, double quantile) {
        check(interactions);
        if (!(quantile > 0 && quantile < 1)) {
            throw new IllegalArgumentException("quantile: must be between 0 and 1 (exclusive), got " + quantile);
        }
        Dataset<Row> times = interactions.select(col(timestampCol).cast("long")).filter(col(timestampCol).isNotNull());
        long n = times.count();
        if (n == 0) {
            throw new IllegalArgumentException("quantile " + quantile + ": column '" + timestampCol + "' holds no values");
        }
        long index = Math.min(n - 1, (long) Math.floor(quantile * n));
        return times.orderBy(col(timestampCol)).offset(Math.toIntExact(index)).first().getLong(0);
    }

    /**
     * Leave-last-N per user: each user's {@code n} latest interactions test (latest by timestamp; equal timestamps
     * broken by the larger item id as the later one, in the item column's own order, so the split is
     * deterministic), the rest train. A user with {@code n} or fewer interactions keeps them all in train, as most
     * recommender libraries do, so every test user also has training history.
     */
    public Split leaveLastN(Dataset<Row> interactions, int n) {
        check(interactions);
        if (n < 1) {
            throw new IllegalArgumentException("n: must be >= 1 (interactions held out per user), got " + n);
        }
        WindowSpec latestFirst = Window.partitionBy(col(userCol)).orderBy(col(timestampCol).desc(), col(itemCol).desc());
        Dataset<Row> ranked = interactions
                .withColumn("_recency", row_number().over(latestFirst))
                .withColumn("_count", count(lit(1)).over(Window.partitionBy(col(userCol))));
        Column held = col("_recency").leq(n).and(col("_count").gt(n));
        return new Split(ranked.filter(held.unary_$bang()).drop("_recency", "_count"),
                ranked.filter(held).drop("_recency", "_count"));
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
