package io.deepretrieval.spark.baseline;

import io.deepretrieval.model.metrics.FactorizedTopK;
import io.deepretrieval.model.metrics.TopKAccuracy;
import io.deepretrieval.spark.eval.NextItemQueries;
import io.deepretrieval.spark.eval.RankingMetrics;
import org.apache.spark.SparkContext;
import org.apache.spark.ml.recommendation.ALS;
import org.apache.spark.ml.recommendation.ALSModel;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.monotonically_increasing_id;
import static org.apache.spark.sql.functions.posexplode;
import static org.apache.spark.sql.functions.sort_array;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.xxhash64;

/**
 * Spark MLlib ALS with implicit feedback (every rating is an interaction, as for the towers), scored with the same
 * factorized top-K metric on the same test split: user factors are the queries, item factors of all candidate
 * records the candidates (a record ALS never saw scores zero). A query whose user ALS has no factors for (all of the
 * user's rows fell outside the fitted ones) is a miss at every K: its row is NaN, which the metric counts as a miss;
 * a zero row would tie every candidate at 0 and count as a hit at every K. How many there were is logged. Rank,
 * regularisation, alpha and the number of iterations are chosen on a validation slice of the training rows, never on
 * the test split, by the {@link Criterion} the caller names; both criteria's figures are computed and logged for
 * every setting and kept for the chosen one.
 */
public final class AlsBaseline {
    private static final Logger LOG = LoggerFactory.getLogger(AlsBaseline.class);
    /** The K of the per-user NDCG that {@link Criterion#NDCG_10} tunes on. */
    public static final int NDCG_K = 10;

    private AlsBaseline() {
    }

    /** One ALS setting: rank, regularisation, implicit-feedback alpha and iterations. */
    public record Setting(int rank, double regParam, double alpha, int maxIter) {
        /** How the reports name it. */
        public String label() {
            return String.format(Locale.ROOT, "ALS implicit (rank %d, reg %.2g, alpha %.3g, %d iterations)", rank,
                    regParam, alpha, maxIter);
        }

        /** Spark's ALS with this setting over the columns {@code user}, {@code item} and {@code rating}. */
        public ALS als(long seed) {
            return new ALS().setImplicitPrefs(true).setRank(rank).setRegParam(regParam).setAlpha(alpha)
                    .setMaxIter(maxIter).setSeed(seed).setUserCol("user").setItemCol("item").setRatingCol("rating")
                    .setColdStartStrategy("drop");
        }

        /** This setting fitted on encoded rows ({@code user_index}, {@code candidate}). */
        public ALSModel fit(Dataset<Row> encoded, long seed) {
            return fitPairs(interactions(encoded), seed);
        }

        /** Fitted on rows of {@link #interactions}, with the checkpoints long fits need. */
        private ALSModel fitPairs(Dataset<Row> pairs, long seed) {
            ensureCheckpointDir(pairs.sparkSession());
            return als(seed).fit(pairs);
        }
    }

    /** The settings ALS is tuned over: every combination of rank, regularisation, alpha and iteration count. */
    public record Grid(List<Integer> ranks, List<Double> regParams, List<Double> alphas, List<Integer> maxIters) {
        /** Ranks 16 and 32, regularisation 0.01 and 0.1, alpha 1 and 10, 10 iterations: eight fits (the sweep's). */
        public static final Grid DEFAULT = new Grid(List.of(16, 32), List.of(0.01, 0.1), List.of(1.0, 10.0), List.of(10));

        /**
         * The experiment's grid: ranks 16, 64 and 128, regularisation 0.1 and 1, alpha 1, 10 and 40, 10 or 20
         * iterations (36 fits). ALS is the baseline the towers are compared against, so it is tuned over a wide
         * grid; the wider one of ranks 16, 32, 64, 128 and regularisation 0.01, 0.1, 1 (72 fits) was cut to this
         * because {@code AlsFitTimingTest} put it at about 28 minutes per split and seed on 2 cores shared with
         * another job (each fit plus its stopping-slice NDCG@10: 16 to 41 s) against a budget of about 15; the
         * same measurements put this one at about 16. Rank 32 sits between 16 and 64, and regularisation 0.01 is the value least likely to win at
         * the high ranks; the CLI options still take the wider grid.
         */
        public static final Grid EXPERIMENT = new Grid(List.of(16, 64, 128), List.of(0.1, 1.0),
                List.of(1.0, 10.0, 40.0), List.of(10, 20));

        /** Every value is checked here, so a bad grid fails before any fit. */
        public Grid {
            ranks = List.copyOf(ranks);
            regParams = List.copyOf(regParams);
            alphas = List.copyOf(alphas);
            maxIters = List.copyOf(maxIters);
            check(!ranks.isEmpty() && ranks.stream().allMatch(r -> r >= 1), "ranks", ranks, "at least one, each >= 1");
            check(!regParams.isEmpty() && regParams.stream().allMatch(r -> r >= 0), "regularisation values",
                    regParams, "at least one, each >= 0");
            check(!alphas.isEmpty() && alphas.stream().allMatch(a -> a > 0), "alphas", alphas, "at least one, each > 0");
            check(!maxIters.isEmpty() && maxIters.stream().allMatch(i -> i >= 1), "iteration counts", maxIters,
                    "at least one, each >= 1");
        }

        /** Every combination, ranks outermost and iteration counts innermost. */
        public List<Setting> settings() {
            List<Setting> out = new ArrayList<>();
            for (int rank : ranks) {
                for (double reg : regParams) {
                    for (double alpha : alphas) {
                        for (int maxIter : maxIters) {
                            out.add(new Setting(rank, reg, alpha, maxIter));
                        }
                    }
                }
            }
            return out;
        }

        private static void check(boolean ok, String what, List<?> values, String rule) {
            if (!ok) {
                throw new IllegalArgumentException("ALS grid " + what + " " + values + ": " + rule);
            }
        }
    }

    /** What the tuning maximises on the validation slice. */
    public enum Criterion {
        /**
         * Per-user NDCG@{@value #NDCG_K} with each user's fitting items left out ({@link RankingMetrics}): the
         * per-user ranking the experiment compares, so ALS is tuned for what it is judged on.
         */
        NDCG_10,
        /** Factorized top-{@code tuneK} over every candidate: the tutorial's metric, which the depth sweep reports. */
        TOP_K
    }

    /** The tuned baseline's setting, its validation figures (top-K and NDCG@10) and its test accuracy. */
    public record Result(int rank, double regParam, double alpha, int maxIter, double validationTopK,
                         double validationNdcg10, TopKAccuracy test) {
        /** The chosen setting. */
        public Setting setting() {
            return new Setting(rank, regParam, alpha, maxIter);
        }

        /** How the reports name it. */
        public String label() {
            return setting().label();
        }
    }

    /**
     * The depth sweep's baseline: tuned over {@link Grid#DEFAULT} by top-{@code tuneK} on 10% of the training rows
     * (a seeded hash), refitted on all of them and scored on {@code test}.
     *
     * @param train encoded training rows ({@code user_index}, {@code candidate})
     * @param test  encoded test rows
     * @param candidates number of candidate records
     */
    public static Result fitAndScore(Dataset<Row> train, Dataset<Row> test, int candidates, FactorizedTopK metric,
                                     long seed, int tuneK) {
        // Validation slice: 10% of the training rows, by a seeded hash.
        Dataset<Row> keyed = train.withColumn("_h", xxhash64(lit(seed), col("user_index"), col("candidate")));
        return tune(keyed.filter(col("_h").mod(10).notEqual(0)).drop("_h"), keyed.filter(col("_h").mod(10).equalTo(0))
                .drop("_h"), train, test, candidates, metric, seed, tuneK, Grid.DEFAULT, Criterion.TOP_K).result();
    }

    /** A tuned baseline and its model, refitted on all training rows. */
    public record Tuned(Result result, ALSModel model) {
    }

    /**
     * Chooses a setting from {@code grid} by {@code criterion} on {@code validation} after fitting on {@code fit}
     * (the first of equal scores wins), refits it on {@code train} and scores it on {@code test}; all four are
     * encoded rows ({@code user_index}, {@code candidate}). The caller picks the validation slice (the experiment
     * uses the towers' early-stopping slice). Every setting's top-{@code tuneK} and NDCG@{@value #NDCG_K} are
     * logged, with the seconds it took.
     */
    public static Tuned tune(Dataset<Row> fit, Dataset<Row> validation, Dataset<Row> train, Dataset<Row> test,
                             int candidates, FactorizedTopK metric, long seed, int tuneK, Grid grid, Criterion criterion) {
        Dataset<Row> fitPairs = interactions(fit).cache();
        Dataset<Row> validationPairs = interactions(validation).cache();
        // What every setting's ranking reads, computed once: the fitting items to leave out and the held-out ones.
        Dataset<Row> seen = fitPairs.select("user", "item");
        Dataset<Row> truth = validationPairs.select("user", "item");
        int length = Math.toIntExact(NDCG_K + mostItems(seen));
        FactorizedTopK tuning = new FactorizedTopK(tuneK);
        double best = Double.NEGATIVE_INFINITY;
        Setting chosen = null;
        double chosenTopK = Double.NaN;
        double chosenNdcg = Double.NaN;
        try {
            for (Setting s : grid.settings()) {
                long start = System.nanoTime();
                ALSModel model = s.fitPairs(fitPairs, seed);
                double topK = score(model, validationPairs, candidates, tuning).at(tuneK);
                double ndcg = ranking(model, seen, truth, length, NDCG_K).ndcgAtK();
                LOG.info("{}: validation top-{} {}, NDCG@{} {} ({} s)", s.label(), tuneK, topK, NDCG_K, ndcg,
                        Math.round((System.nanoTime() - start) / 1e9));
                double value = criterion == Criterion.NDCG_10 ? ndcg : topK;
                if (chosen == null || value > best) {
                    best = value;
                    chosen = s;
                    chosenTopK = topK;
                    chosenNdcg = ndcg;
                }
            }
        } finally {
            fitPairs.unpersist();
            validationPairs.unpersist();
        }
        LOG.info("ALS: {} chosen by {} on the validation slice", chosen.label(), criterion);
        ALSModel model = chosen.fit(train, seed);
        TopKAccuracy accuracy = score(model, interactions(test), candidates, metric);
        return new Tuned(new Result(chosen.rank(), chosen.regParam(), chosen.alpha(), chosen.maxIter(), chosenTopK,
                chosenNdcg, accuracy), model);
    }

    /**
     * Per-user recall@K and NDCG@K of a fitted model on {@code test}, each user's {@code train} items left out (as
     * for the towers): ALS ranks the K plus the most training items a user has, then the seen ones are dropped.
     * A test user without factors gets no recommendations and scores 0.
     */
    public static RankingMetrics.Result ranking(ALSModel model, Dataset<Row> train, Dataset<Row> test, int k) {
        Dataset<Row> seen = interactions(train).select("user", "item");
        return ranking(model, seen, interactions(test).select("user", "item"), Math.toIntExact(k + mostItems(seen)), k);
    }

    /** The ranking of {@code length} items per user of {@code truth}, the {@code seen} ones left out, at {@code k}. */
    private static RankingMetrics.Result ranking(ALSModel model, Dataset<Row> seen, Dataset<Row> truth, int length, int k) {
        RankingMetrics metrics = new RankingMetrics("user", "item");
        Dataset<Row> recommended = model.recommendForUserSubset(truth.select("user").distinct(), length);
        return metrics.evaluate(metrics.withoutTrainingItems(recommended, seen), truth, k);
    }

    /** The most rows any user has in {@code pairs} (user, item). */
    private static long mostItems(Dataset<Row> pairs) {
        return pairs.groupBy("user").count().agg(max("count")).first().getLong(0);
    }

    /**
     * The next-item protocol's ALS ({@link NextItemQueries.Recommender}): each query gets its user's {@code n} best
     * items by the user's factors (the query's history does not change them; the protocol drops the history's
     * items). A query whose user ALS has no factors for gets an empty list, so it is scored 0 and counted, not
     * dropped.
     *
     * @param pairs the indices {@code model} was fitted under: query users and recommended items are translated
     *              through them
     */
    public static Dataset<Row> recommendForQueries(ALSModel model, IndexedPairs pairs, Dataset<Row> queries, int n) {
        Dataset<Row> users = pairs.withUserIndex(queries.select(col(NextItemQueries.USER)).distinct(),
                NextItemQueries.USER);
        Dataset<Row> recommended = model.recommendForUserSubset(users.select(col(IndexedPairs.USER_INDEX).as("user")), n)
                .select(col("user").as(IndexedPairs.USER_INDEX),
                        posexplode(col(RankingMetrics.RECOMMENDATIONS)).as(new String[]{"_pos", "_rec"}));
        // Back to item ids, the ranking's order kept by the position (a join does not keep it).
        Column rec = struct(col(IndexedPairs.ITEM_LABEL).as(NextItemQueries.ITEM), col("_rec.rating").as(NextItemQueries.SCORE));
        Dataset<Row> lists = recommended.join(pairs.itemIds(queries.sparkSession()),
                        col("_rec.item").equalTo(col(IndexedPairs.CANDIDATE)))
                .groupBy(IndexedPairs.USER_INDEX)
                .agg(sort_array(collect_list(struct(col("_pos"), rec.as("_r")))).getField("_r")
                        .as(RankingMetrics.RECOMMENDATIONS));
        Column none = array().cast(lists.schema().apply(RankingMetrics.RECOMMENDATIONS).dataType());
        return queries.join(users, NextItemQueries.USER).join(lists, new String[]{IndexedPairs.USER_INDEX}, "left")
                .select(col(NextItemQueries.QUERY), coalesce(col(RankingMetrics.RECOMMENDATIONS), none)
                        .as(RankingMetrics.RECOMMENDATIONS));
    }

    /**
     * Gives a local session without a checkpoint directory a temporary one (deleted when the JVM exits). ALS
     * checkpoints its factors every {@code checkpointInterval} (10) iterations only when the context has a
     * directory; without one the lineage of 20 iterations overflows the stack of the task that deserializes it
     * (measured: {@code StackOverflowError} at 20 iterations on ML-100k-sized data). A cluster needs a directory
     * every executor reads ({@code SparkContext.setCheckpointDir}), which only its user can name, so there it is
     * only a warning.
     */
    static synchronized void ensureCheckpointDir(SparkSession spark) {
        SparkContext context = spark.sparkContext();
        if (context.getCheckpointDir().isDefined()) {
            return;
        }
        if (!context.isLocal()) {
            LOG.warn("ALS: the Spark context has no checkpoint directory, so fits of many iterations may overflow"
                    + " the stack; set one with SparkContext.setCheckpointDir");
            return;
        }
        try {
            Path dir = Files.createTempDirectory("als-checkpoints");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteQuietly(dir)));
            context.setCheckpointDir(dir.toString());
            LOG.info("ALS: checkpoints in {}", dir);
        } catch (IOException e) {
            throw new UncheckedIOException("ALS: cannot create a checkpoint directory: " + e.getMessage(), e);
        }
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // At shutdown there is nobody left to tell; the folder is in the temporary directory.
        }
    }

    private static Dataset<Row> interactions(Dataset<Row> encoded) {
        return encoded.select(col("user_index").as("user"), col("candidate").as("item"), lit(1.0f).as("rating"),
                monotonically_increasing_id().as("_row"));
    }

    private static TopKAccuracy score(ALSModel model, Dataset<Row> queries, int candidates, FactorizedTopK metric) {
        int rank = model.rank();
        Map<Integer, float[]> users = factors(model.userFactors().collectAsList());
        Map<Integer, float[]> items = factors(model.itemFactors().collectAsList());
        float[] itemMatrix = new float[Math.multiplyExact(candidates, rank)];
        items.forEach((id, f) -> System.arraycopy(f, 0, itemMatrix, id * rank, rank));
        List<Row> rows = queries.select("user", "item").collectAsList();
        int[] userIds = new int[rows.size()];
        int[] positives = new int[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            userIds[i] = rows.get(i).getInt(0);
            positives[i] = rows.get(i).getInt(1);
        }
        Queries q = queries(users, userIds, rank);
        if (q.withoutFactors() > 0) {
            LOG.warn("ALS: {} of {} queries have no user factors (the user has no fitted rows); counted as misses",
                    q.withoutFactors(), rows.size());
        }
        return metric.evaluate(Nd4j.create(q.matrix(), new long[]{rows.size(), rank}, 'c'),
                Nd4j.create(itemMatrix, new long[]{candidates, rank}, 'c'), positives);
    }

    /** Query rows [userIds.length, rank] and how many of them are NaN for want of user factors. */
    record Queries(float[] matrix, int withoutFactors) {
    }

    /**
     * The user factors of each query, row-major; a user without factors gets a NaN row, which the metric counts as
     * a miss at every K.
     */
    static Queries queries(Map<Integer, float[]> users, int[] userIds, int rank) {
        float[] matrix = new float[Math.multiplyExact(userIds.length, rank)];
        int without = 0;
        for (int i = 0; i < userIds.length; i++) {
            float[] u = users.get(userIds[i]);
            if (u != null) {
                System.arraycopy(u, 0, matrix, i * rank, rank);
            } else {
                Arrays.fill(matrix, i * rank, (i + 1) * rank, Float.NaN);
                without++;
            }
        }
        return new Queries(matrix, without);
    }

    private static Map<Integer, float[]> factors(List<Row> rows) {
        Map<Integer, float[]> m = new HashMap<>();
        for (Row r : rows) {
            List<Float> f = r.getList(1);
            float[] v = new float[f.size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = f.get(i);
            }
            m.put(r.getInt(0), v);
        }
        return m;
    }
}
