package io.deepretrieval.spark.baseline;

import io.deepretrieval.model.metrics.FactorizedTopK;
import io.deepretrieval.model.metrics.TopKAccuracy;
import org.apache.spark.ml.recommendation.ALS;
import org.apache.spark.ml.recommendation.ALSModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.xxhash64;

/**
 * Spark MLlib ALS with implicit feedback (every rating is an interaction, as for the towers), scored with the same
 * factorized top-K metric on the same test split: user factors are the queries, item factors of all candidate
 * records the candidates (a record ALS never saw scores zero). A query whose user ALS has no factors for (all of the
 * user's rows fell outside the fitted ones) is a miss at every K: its row is NaN, which the metric counts as a miss;
 * a zero row would tie every candidate at 0 and count as a hit at every K. How many there were is logged. Rank,
 * regularisation and alpha are chosen on a validation slice of the training rows, never on the test split.
 */
public final class AlsBaseline {
    private static final Logger LOG = LoggerFactory.getLogger(AlsBaseline.class);
    private AlsBaseline() {
    }

    /** The settings ALS is tuned over: every combination of rank, regularisation and alpha. */
    public record Grid(List<Integer> ranks, List<Double> regParams, List<Double> alphas) {
        /** Ranks 16 and 32, regularisation 0.01 and 0.1, alpha 1 and 10: eight fits. */
        public static final Grid DEFAULT = new Grid(List.of(16, 32), List.of(0.01, 0.1), List.of(1.0, 10.0));

        public Grid {
            ranks = List.copyOf(ranks);
            regParams = List.copyOf(regParams);
            alphas = List.copyOf(alphas);
            check(!ranks.isEmpty() && ranks.stream().allMatch(r -> r >= 1), "ranks", ranks, "at least one, each >= 1");
            check(!regParams.isEmpty() && regParams.stream().allMatch(r -> r >= 0), "regularisation values",
                    regParams, "at least one, each >= 0");
            check(!alphas.isEmpty() && alphas.stream().allMatch(a -> a > 0), "alphas", alphas, "at least one, each > 0");
        }

        private static void check(boolean ok, String what, List<?> values, String rule) {
            if (!ok) {
                throw new IllegalArgumentException("ALS grid " + what + " " + values + ": " + rule);
            }
        }
    }

    /** The tuned baseline's settings and its test accuracy. */
    public record Result(int rank, double regParam, double alpha, double validationTopK, TopKAccuracy test) {
        public String label() {
            return String.format(java.util.Locale.ROOT, "ALS implicit (rank %d, reg %.2g, alpha %.3g)", rank, regParam, alpha);
        }
    }

    /**
     * @param train encoded training rows ({@code user_index}, {@code candidate})
     * @param test  encoded test rows
     * @param candidates number of candidate records
     */
    public static Result fitAndScore(Dataset<Row> train, Dataset<Row> test, int candidates, FactorizedTopK metric,
                                     long seed, int tuneK) {
        // Validation slice: 10% of the training rows, by a seeded hash.
        Dataset<Row> keyed = train.withColumn("_h", xxhash64(lit(seed), col("user_index"), col("candidate")));
        return tune(keyed.filter(col("_h").mod(10).notEqual(0)).drop("_h"), keyed.filter(col("_h").mod(10).equalTo(0))
                .drop("_h"), train, test, candidates, metric, seed, tuneK, Grid.DEFAULT).result();
    }

    /** A tuned baseline and its model, refitted on all training rows. */
    public record Tuned(Result result, ALSModel model) {
    }

    /**
     * Chooses rank, regularisation and alpha from {@code grid} by top-{@code tuneK} on {@code validation} after fitting on
     * {@code fit}, refits the best on {@code train} and scores it on {@code test}; all four are encoded rows
     * ({@code user_index}, {@code candidate}). The caller picks the validation slice (the experiment uses the
     * towers' early-stopping slice).
     */
    public static Tuned tune(Dataset<Row> fit, Dataset<Row> validation, Dataset<Row> train, Dataset<Row> test,
                             int candidates, FactorizedTopK metric, long seed, int tuneK, Grid grid) {
        Dataset<Row> fitPairs = interactions(fit).cache();
        Dataset<Row> validationPairs = interactions(validation).cache();
        FactorizedTopK tuning = new FactorizedTopK(tuneK);
        double best = -1;
        int bestRank = 0;
        double bestReg = 0;
        double bestAlpha = 0;
        for (int rank : grid.ranks()) {
            for (double reg : grid.regParams()) {
                for (double alpha : grid.alphas()) {
                    double acc = score(als(rank, reg, alpha, seed).fit(fitPairs), validationPairs, candidates, tuning).at(tuneK);
                    LOG.info("ALS rank {} reg {} alpha {}: validation top-{} {}", rank, reg, alpha, tuneK, acc);
                    if (acc > best) {
                        best = acc;
                        bestRank = rank;
                        bestReg = reg;
                        bestAlpha = alpha;
                    }
                }
            }
        }
        fitPairs.unpersist();
        validationPairs.unpersist();
        ALSModel model = als(bestRank, bestReg, bestAlpha, seed).fit(interactions(train));
        TopKAccuracy accuracy = score(model, interactions(test), candidates, metric);
        return new Tuned(new Result(bestRank, bestReg, bestAlpha, best, accuracy), model);
    }

    /**
     * Per-user recall@K and NDCG@K of a fitted model on {@code test}, each user's {@code train} items left out (as
     * for the towers): ALS ranks the K plus the most training items a user has, then the seen ones are dropped.
     * A test user without factors gets no recommendations and scores 0.
     */
    public static io.deepretrieval.spark.eval.RankingMetrics.Result ranking(ALSModel model, Dataset<Row> train,
                                                                            Dataset<Row> test, int k) {
        Dataset<Row> seen = interactions(train).select("user", "item");
        long most = seen.groupBy("user").count().agg(org.apache.spark.sql.functions.max("count")).first().getLong(0);
        Dataset<Row> truth = interactions(test).select("user", "item");
        io.deepretrieval.spark.eval.RankingMetrics metrics = new io.deepretrieval.spark.eval.RankingMetrics("user", "item");
        Dataset<Row> recommended = model.recommendForUserSubset(truth.select("user").distinct(), Math.toIntExact(k + most));
        return metrics.evaluate(metrics.withoutTrainingItems(recommended, seen), truth, k);
    }

    private static ALS als(int rank, double reg, double alpha, long seed) {
        return new ALS().setImplicitPrefs(true).setRank(rank).setRegParam(reg).setAlpha(alpha).setMaxIter(10)
                .setSeed(seed).setUserCol("user").setItemCol("item").setRatingCol("rating")
                .setColdStartStrategy("drop");
    }

    private static Dataset<Row> interactions(Dataset<Row> encoded) {
        return encoded.select(col("user_index").as("user"), col("candidate").as("item"), lit(1.0f).as("rating"),
                org.apache.spark.sql.functions.monotonically_increasing_id().as("_row"));
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
                java.util.Arrays.fill(matrix, i * rank, (i + 1) * rank, Float.NaN);
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
