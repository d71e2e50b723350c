package io.deepretrieval.spark.baseline;

import io.deepretrieval.spark.TestSpark;
import org.apache.spark.ml.recommendation.ALSModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.xxhash64;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the experiment's ALS grid ({@link AlsBaseline.Grid#EXPERIMENT}) and the wider one it was cut from
 * ({@link #UNCUT}) cost per split and seed on data of MovieLens 100k's size (943 users, 1,682 items, 100,000 rows,
 * popularity and activity skewed), in this JVM's local Spark: one fit for each rank and iteration count
 * (regularisation and alpha do not change the work of a fit) plus the stopping-slice NDCG@10 that tuning computes
 * after each fit, summed over each grid. Run on demand only ({@code -Ddeepretrieval.timing=true}): it takes minutes
 * and its figures are the machine's, not a pass/fail matter; it checks that each fit is complete.
 */
@EnabledIfSystemProperty(named = "deepretrieval.timing", matches = "true")
class AlsFitTimingTest {
    private static final int USERS = 943;
    private static final int ITEMS = 1682;
    private static final int ROWS = 100_000;
    /** The grid first asked for, before the timing below cut it to {@link AlsBaseline.Grid#EXPERIMENT}. */
    static final AlsBaseline.Grid UNCUT = new AlsBaseline.Grid(List.of(16, 32, 64, 128), List.of(0.01, 0.1, 1.0),
            List.of(1.0, 10.0, 40.0), List.of(10, 20));

    /**
     * Encoded rows: users and items drawn with a long tail whose head matches ML-100k's (its most active user has
     * 737 rows, 0.74%; its most rated movie 583, 0.58%), since the per-user ranking asks ALS for as many items as
     * the most active user has.
     */
    static Dataset<Row> movieLensSized(SparkSession spark, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<Row> rows = new ArrayList<>(ROWS);
        for (int i = 0; i < ROWS; i++) {
            double u = random.nextDouble();
            double v = random.nextDouble();
            rows.add(RowFactory.create((int) (USERS * Math.pow(u, 1.4)), (int) (ITEMS * Math.pow(v, 1.45))));
        }
        return spark.createDataFrame(rows, new StructType().add(IndexedPairs.USER_INDEX, DataTypes.IntegerType)
                .add(IndexedPairs.CANDIDATE, DataTypes.IntegerType)).cache();
    }

    @Test
    void timesOneFitPerRankAndIterationCountOfTheExperimentGrid() {
        SparkSession spark = TestSpark.session();
        Dataset<Row> rows = movieLensSized(spark, 11);
        long users = rows.select(IndexedPairs.USER_INDEX).distinct().count();
        long items = rows.select(IndexedPairs.CANDIDATE).distinct().count();
        long most = rows.groupBy(IndexedPairs.USER_INDEX).count().agg(max("count")).first().getLong(0);
        // The stopping slice: 10% of the rows by a hash, as the experiment's random split holds it out.
        Dataset<Row> keyed = rows.withColumn("_h", xxhash64(lit(3), col(IndexedPairs.USER_INDEX), col(IndexedPairs.CANDIDATE)));
        Dataset<Row> fit = keyed.filter(col("_h").mod(10).notEqual(0)).drop("_h").cache();
        Dataset<Row> validation = keyed.filter(col("_h").mod(10).equalTo(0)).drop("_h").cache();
        AlsBaseline.Grid grid = AlsBaseline.Grid.EXPERIMENT;
        double total = 0;
        double uncut = 0;
        StringBuilder table = new StringBuilder();
        for (int rank : UNCUT.ranks()) {
            for (int maxIter : UNCUT.maxIters()) {
                long start = System.nanoTime();
                ALSModel model = new AlsBaseline.Setting(rank, 0.1, 10, maxIter).fit(fit, 42);
                assertEquals(rank, model.rank());
                long fitted = model.userFactors().count();
                double fitSeconds = (System.nanoTime() - start) / 1e9;
                double ndcg = AlsBaseline.ranking(model, fit, validation, AlsBaseline.NDCG_K).ndcgAtK();
                double seconds = (System.nanoTime() - start) / 1e9;
                assertTrue(fitted > 0.95 * users && model.itemFactors().count() > 0.95 * items,
                        "rank " + rank + ": factors for " + fitted + " of " + users + " users");
                assertTrue(ndcg >= 0 && ndcg <= 1, "NDCG@10 " + ndcg);
                uncut += seconds * UNCUT.regParams().size() * UNCUT.alphas().size();
                if (grid.ranks().contains(rank) && grid.maxIters().contains(maxIter)) {
                    total += seconds * grid.regParams().size() * grid.alphas().size();
                }
                table.append(String.format(Locale.ROOT, "rank %3d, %2d iterations: fit %.1f s, with NDCG@10 %.1f s%n",
                        rank, maxIter, fitSeconds, seconds));
            }
        }
        System.out.printf(Locale.ROOT, "ALS on %d rows (%d users, %d items, at most %d rows a user), %s:%n%s"
                + "experiment grid, %d fits: about %.1f min; uncut grid, %d fits: about %.1f min%n", ROWS, users, items,
                most, spark.sparkContext().master(), table, grid.settings().size(), total / 60, UNCUT.settings().size(),
                uncut / 60);
    }
}
