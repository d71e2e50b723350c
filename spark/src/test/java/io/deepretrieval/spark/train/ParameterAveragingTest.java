package io.deepretrieval.spark.train;

import io.deepretrieval.model.features.Interactions;
import io.deepretrieval.model.io.NativeThreads;
import io.deepretrieval.model.metrics.FactorizedTopK;
import io.deepretrieval.model.task.RetrievalObjective;
import io.deepretrieval.model.towers.ModelConfig;
import io.deepretrieval.model.towers.Parameter;
import io.deepretrieval.model.towers.TwoTowerModel;
import io.deepretrieval.model.train.CurvePoint;
import io.deepretrieval.model.train.EpochShuffle;
import io.deepretrieval.model.train.LocalTrainer;
import io.deepretrieval.model.train.ModelState;
import io.deepretrieval.model.train.TrainingListener;
import io.deepretrieval.model.train.TrainingOptions;
import io.deepretrieval.model.train.TrainingStep;
import io.deepretrieval.spark.SyntheticMovieLens;
import io.deepretrieval.spark.TestSpark;
import io.deepretrieval.spark.TutorialData;
import io.deepretrieval.spark.ml.PreparedInteractions;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ParameterAveragingTest {
    @TempDir
    static Path dir;
    static PreparedInteractions data;

    @BeforeAll
    static void prepare() throws IOException {
        SyntheticMovieLens.write100k(dir.resolve("ml"), 60, 120, 3000, 9);
        data = TutorialData.prepare(TestSpark.session(), dir.resolve("ml").toString(), 42, 0.2, 100, 10_000);
    }

    /**
     * logQ under averaging: with two partitions that hold disjoint halves of the catalogue, each replica still
     * corrects by the frequencies of all training rows, as the single JVM does, not by its own partition's.
     */
    @Test
    void logQFrequenciesAreThoseOfAllTrainingRowsWithSkewedPartitions() {
        Interactions all = data.train();
        int n = data.corpus().size();
        // Oracle: the single JVM's shares, counted here by hand.
        double[] expected = new double[n];
        for (int c : all.candidate()) {
            expected[c] += 1.0 / all.size();
        }
        int[] low = java.util.stream.IntStream.range(0, all.size()).filter(i -> all.candidate()[i] < n / 2).toArray();
        int[] high = java.util.stream.IntStream.range(0, all.size()).filter(i -> all.candidate()[i] >= n / 2).toArray();
        List<Interactions> parts = List.of(all.select(low, 0, low.length), all.select(high, 0, high.length));
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(TestSpark.session().sparkContext());
        double[] shares = ParameterAveraging.candidateShares(sc.parallelize(parts, 2), n);
        assertArrayEquals(expected, shares, 1e-12);

        ModelConfig config = ModelConfig.tutorial(new int[]{16}, 5)
                .withObjective(new RetrievalObjective(1.0, false, true, 0));
        var task = new ParameterAveraging.RoundTask("logq-shares", config, sc.broadcast(data.spec()),
                sc.broadcast(data.corpus()), sc.broadcast(shares), sc.broadcast(ModelState.of(new TwoTowerModel(config, data.spec()))),
                new DistributedOptions(2, 64, 1, false, "MEMORY_ONLY", 1), 1, 7, 1, 0, false);
        task.call(0, List.of(parts.get(0)).iterator()).next();
        double[] used = ReplicaCache.get("logq-shares", 0, config, data.spec(), data.corpus(), 1).step().candidateShares();
        assertArrayEquals(expected, used, 1e-12, "partition 0's replica corrects by every row's frequencies");
    }

    @Test
    void oneWorkerAveragingEveryStepEqualsTheSingleJvmTrainer() {
        ModelConfig config = ModelConfig.tutorial(new int[]{16, 8}, 5);
        // Steps split over two threads on both paths, so the Spark task's replica runs its slices too.
        TrainingOptions training = new TrainingOptions(256, 2, 2, 7, 2);
        // Both paths on the same native thread count: a different count changes the summation order of ND4J's
        // reductions, and with it the float rounding the comparison allows for.
        NativeThreads.apply(1);
        TwoTowerModel local = new TwoTowerModel(config, data.spec());
        new LocalTrainer(training, new FactorizedTopK(10), TrainingListener.NONE).fit(local, data.corpus(), data.train(), data.heldOut());

        TwoTowerModel distributed = new TwoTowerModel(config, data.spec());
        new ParameterAveraging(new DistributedOptions(1, 256, 1, true, "MEMORY_ONLY", 1), training, new FactorizedTopK(10),
                TrainingListener.NONE).fit(distributed, data.spec(), data.corpus(), data.trainRows(), data.heldOut());

        float[] a = ModelState.of(local).values();
        float[] b = ModelState.of(distributed).values();
        float[] accA = ModelState.of(local).accumulators();
        float[] accB = ModelState.of(distributed).accumulators();
        double maxDiff = 0;
        double maxAccDiff = 0;
        for (int i = 0; i < a.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
            maxAccDiff = Math.max(maxAccDiff, Math.abs(accA[i] - accB[i]) / Math.max(1, Math.abs(accA[i])));
        }
        assertTrue(maxDiff < 1e-5, "parameters differ by " + maxDiff);
        assertTrue(maxAccDiff < 1e-5, "accumulators differ by " + maxAccDiff);
        assertTrue(a.length > 10_000);
    }

    @Test
    void twoWorkersLearnThePlantedPreference() {
        ModelConfig config = ModelConfig.tutorial(new int[]{32}, 5);
        ParameterAveraging trainer = new ParameterAveraging(new DistributedOptions(2, 128, 3, true, "MEMORY_ONLY", 1),
                new TrainingOptions(256, 6, 3, 7), new FactorizedTopK(1, 20), TrainingListener.NONE);
        List<CurvePoint> curve = trainer.fit(new TwoTowerModel(config, data.spec()), data.spec(), data.corpus(),
                data.trainRows(), data.heldOut());
        assertEquals(List.of(3, 6), curve.stream().map(CurvePoint::epoch).toList());
        // 120 movies, 20 per user group: a random ranking gets top-20 right one time in 6.
        double top20 = curve.get(1).accuracy().at(20);
        assertTrue(top20 > 0.4, "top-20 " + top20);
        assertTrue(trainer.timer().rounds() > 0 && trainer.timer().overheadShare() < 1);
    }

    /**
     * Two workers, one averaging round, against a reference computed in this JVM without the averaging code: two
     * replicas trained from the same initial state on the rows each partition holds, in the order each one shuffles
     * them, then averaged by hand as {@link WorkerResult} documents it: dense parameters weighted by the examples each
     * replica trained on; each embedding row over the replicas whose steps changed it, weighted by how many did; rows
     * neither changed as they started. Which steps updated a row the reference reads off each step's batch (the
     * user, time bucket, title and non-padding title tokens of its rows and candidates), not from the tables' own
     * bookkeeping.
     *
     * <p>The partitions are made deterministic rather than reproduced: with {@code repartition=false} the trainer
     * coalesces its input to {@code workers} partitions, and the input here is the training rows spread over three
     * slices with no preferred locations, which Spark coalesces by position: partition 0 gets the first slice,
     * partition 1 the other two. (The round-robin shuffle of {@code repartition=true} places rows deterministically
     * but concatenates the shuffle blocks in fetch order, which is not part of Spark's contract.) Unequal partitions
     * (1:2) make the example weights matter.
     */
    @Test
    void twoWorkersOneRoundEqualTwoReplicasTrainedAloneThenAveragedRowByRow() {
        OneRound r = oneRound(null);
        // The comparison can tell: rows that both replicas moved differ from either replica and from the plain mean.
        assertTrue(r.sharedRows > 100, "rows both replicas updated: " + r.sharedRows);
        assertTrue(r.replicasApart > 1e-2, "the replicas hardly differ: " + r.replicasApart);
        assertTrue(r.unweighted > 1e-3, "the result is also the unweighted mean: " + r.unweighted);
    }

    /** With the users split between the partitions, each user's row is its own replica's local result, bit for bit. */
    @Test
    void withDisjointUsersEachUsersRowIsItsOwnReplicasResult() {
        Interactions all = data.train();
        Integer[] byUser = new Integer[all.size()];
        for (int i = 0; i < byUser.length; i++) {
            byUser[i] = i;
        }
        int userFeature = 0; // the tutorial's query features: the user id first
        int[] users = all.query().ids(userFeature);
        java.util.Arrays.sort(byUser, java.util.Comparator.comparingInt((Integer i) -> users[i]).thenComparingInt(i -> i));
        OneRound r = oneRound(java.util.Arrays.stream(byUser).mapToInt(Integer::intValue).toArray());
        // Sorted by user, the two partitions share at most the one user whose rows straddle the cut.
        assertTrue(r.exactUserRows > 40, "user rows equal to their replica's: " + r.exactUserRows);
        assertTrue(r.sharedUserRows <= 1, "users in both partitions: " + r.sharedUserRows);
        // Each replica sends about half the user table (plus every title it saw and the dense layers).
        assertTrue(r.shippedBytes < r.wholeStateBytes, "replicas sent " + r.shippedBytes + " bytes, whole states are "
                + r.wholeStateBytes);
    }

    private record OneRound(int sharedRows, double replicasApart, double unweighted, int exactUserRows, int sharedUserRows,
                            double shippedBytes, double wholeStateBytes) {
    }

    /** One averaging round over two partitions of the training rows in {@code order} (null: as encoded), checked. */
    private OneRound oneRound(int[] order) {
        ModelConfig config = ModelConfig.tutorial(new int[]{16, 8}, 5);
        long shuffleSeed = 7;
        int batch = 128;
        Interactions all = data.train();
        int n = all.size();
        // Spark's slices of a parallelized list: slice i holds positions [i*n/3, (i+1)*n/3).
        int cut = n / 3;
        Interactions[] parts = {all.select(order, 0, cut), all.select(order, cut, n)};
        // One round: every partition's rows fit in averagingFrequency batches; one epoch: one round in all.
        int averagingFrequency = (parts[1].size() + batch - 1) / batch + 1;
        DistributedOptions options = new DistributedOptions(2, batch, averagingFrequency, false, "MEMORY_ONLY", 1);
        TrainingOptions training = new TrainingOptions(256, 1, 1, shuffleSeed);

        SparkSession spark = data.trainRows().sparkSession();
        // The raw training rows, in the order data.train() encoded them, then in the order asked for.
        List<Row> encoded = data.trainRows().select("user_id", "timestamp", "candidate").collectAsList();
        List<Row> raw = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            raw.add(encoded.get(order == null ? i : order[i]));
        }
        Dataset<Row> rows = threeSlices(spark, raw);
        List<List<Row>> coalesced = rows.coalesce(2).javaRDD().glom().collect();
        assertEquals(List.of(parts[0].size(), parts[1].size()), coalesced.stream().map(List::size).toList(),
                "the coalesced partitions are not the slices this test expects");
        for (int p = 0; p < 2; p++) {
            List<Row> slice = p == 0 ? raw.subList(0, cut) : raw.subList(cut, n);
            assertEquals(slice.stream().map(r -> r.mkString(",")).toList(), coalesced.get(p).stream().map(r -> r.mkString(",")).toList(),
                    "partition " + p + " does not hold its slice in order");
        }

        NativeThreads.apply(1); // as the tasks (nativeThreads = 1): the same summation order in ND4J's reductions
        TwoTowerModel initial = new TwoTowerModel(config, data.spec());
        ModelState start = ModelState.of(initial);

        // Reference: each partition's replica as the round task runs it, trained here, counting per table row the
        // steps whose batch looked it up.
        TwoTowerModel[] replicas = new TwoTowerModel[2];
        int[][][] updates = new int[2][][];
        long[] examples = new long[2];
        double lossSum = 0;
        long batches = 0;
        for (int p = 0; p < 2; p++) {
            replicas[p] = new TwoTowerModel(config, data.spec());
            start.applyTo(replicas[p]);
            updates[p] = new int[replicas[p].tables().size()][];
            for (int t = 0; t < updates[p].length; t++) {
                updates[p][t] = new int[replicas[p].tables().get(t).rows()];
            }
            int[] shuffle = EpochShuffle.order(parts[p].size(), shuffleSeed + ParameterAveraging.PARTITION_SEED_STRIDE * p, 1);
            try (TrainingStep step = new TrainingStep(replicas[p], data.corpus())) {
                for (int from = 0; from < parts[p].size(); from += batch) {
                    int to = Math.min(parts[p].size(), from + batch);
                    Interactions stepRows = parts[p].select(shuffle, from, to);
                    lossSum += step.run(stepRows);
                    countLookups(stepRows, updates[p]);
                    batches++;
                    examples[p] += to - from;
                }
            }
        }
        assertEquals(n, examples[0] + examples[1]);

        TwoTowerModel distributed = new TwoTowerModel(config, data.spec());
        start.applyTo(distributed);
        double[] meanLoss = new double[1];
        ParameterAveraging trainer = new ParameterAveraging(options, training, new FactorizedTopK(10), new TrainingListener() {
            @Override
            public void epochDone(int epoch, int epochs, double loss, double eps, double eta) {
                meanLoss[0] = loss;
            }
        });
        trainer.fit(distributed, data.spec(), data.corpus(), rows, data.heldOut());
        assertEquals(1, trainer.timer().rounds(), "expected exactly one averaging round");
        assertEquals(lossSum / batches, meanLoss[0], 1e-6 * Math.abs(meanLoss[0]), "mean loss of the round's steps");

        ModelState got = ModelState.of(distributed);
        ModelState[] reps = {ModelState.of(replicas[0]), ModelState.of(replicas[1])};
        String userTable = distributed.tables().get(0).name();
        int dim = distributed.tables().get(0).dim();
        int userRows = distributed.tables().get(0).rows();
        int offset = 0;
        int sharedRows = 0;
        int exactUserRows = 0;
        int sharedUserRows = 0;
        double worst = 0;
        double unweighted = 0;
        double apart = 0;
        for (Parameter p : distributed.parameters().values()) {
            int tableIndex = distributed.tables().indexOf(p);
            boolean table = tableIndex >= 0;
            int width = table ? (int) p.shape()[1] : p.values().length;
            for (int row = offset; row < offset + p.values().length; row += width) {
                double[] w = new double[2];
                for (int rep = 0; rep < 2; rep++) {
                    w[rep] = table ? updates[rep][tableIndex][(row - offset) / width] : examples[rep];
                }
                boolean exact = true;
                for (int k = 0; k < width; k++) {
                    int i = row + k;
                    float a = reps[0].values()[i];
                    float b = reps[1].values()[i];
                    float expected = w[0] + w[1] == 0 ? start.values()[i] : (float) ((a * w[0] + b * w[1]) / (w[0] + w[1]));
                    float expectedAcc = w[0] + w[1] == 0 ? start.accumulators()[i]
                            : (float) ((reps[0].accumulators()[i] * w[0] + reps[1].accumulators()[i] * w[1]) / (w[0] + w[1]));
                    worst = Math.max(worst, Math.abs(got.values()[i] - expected));
                    worst = Math.max(worst, Math.abs(got.accumulators()[i] - expectedAcc) / Math.max(1, Math.abs(expectedAcc)));
                    exact &= got.values()[i] == (w[0] > 0 ? a : b) && got.accumulators()[i]
                            == (w[0] > 0 ? reps[0].accumulators()[i] : reps[1].accumulators()[i]);
                    if (w[0] > 0 && w[1] > 0) {
                        unweighted = Math.max(unweighted, Math.abs(got.values()[i] - (a + b) / 2.0));
                        apart = Math.max(apart, Math.abs(a - b));
                    }
                }
                boolean shared = table && w[0] > 0 && w[1] > 0;
                sharedRows += shared ? 1 : 0;
                if (p.name().equals(userTable) && w[0] + w[1] > 0) {
                    sharedUserRows += shared ? 1 : 0;
                    exactUserRows += !shared && exact ? 1 : 0;
                }
            }
            assertTrue(worst < 1e-5, p.name() + ": differs from the reference average by " + worst);
            offset += p.values().length;
        }
        assertTrue(userRows > 40, "user rows " + userRows);
        System.out.println("two-worker reference: examples " + examples[0] + " + " + examples[1] + ", " + batches
                + " steps; largest difference " + worst + "; rows both replicas updated " + sharedRows
                + ", user rows exactly one replica's " + exactUserRows + "; unweighted mean off by " + unweighted
                + ", replicas apart by " + apart + "; bytes per round " + trainer.timer().shippedBytesPerRound()
                + " of " + trainer.timer().wholeStateBytesPerRound());
        return new OneRound(sharedRows, apart, unweighted, exactUserRows, sharedUserRows,
                trainer.timer().shippedBytesPerRound(), trainer.timer().wholeStateBytesPerRound());
    }

    /**
     * Adds 1 to each table row one step's batch looks up: the query features of its rows, then the candidate features
     * of its candidates (the tutorial's four features, each with its own table, in the model's table order), tokens
     * of weight 0 (padding) left out.
     */
    private static void countLookups(Interactions batch, int[][] updates) {
        io.deepretrieval.model.features.FeatureColumns[] towers = {batch.query(), data.corpus().inputs(batch.candidate())};
        int t = 0;
        for (io.deepretrieval.model.features.FeatureColumns cols : towers) {
            for (int f = 0; f < cols.features(); f++, t++) {
                java.util.Set<Integer> rows = new java.util.HashSet<>();
                int[] ids = cols.ids(f);
                assertTrue(ids != null, "feature " + f + " has no table");
                float[] weights = cols.weights(f);
                for (int i = 0; i < ids.length; i++) {
                    if (weights == null || weights[i] != 0f) {
                        rows.add(ids[i]);
                    }
                }
                for (int r : rows) {
                    updates[t][r]++;
                }
            }
        }
        assertEquals(updates.length, t, "the tutorial's features, one table each");
    }

    /** The rows as a DataFrame of the trainer's input columns, in order, over three slices of Spark's own cutting. */
    private static Dataset<Row> threeSlices(SparkSession spark, List<Row> rows) {
        StructType schema = new StructType()
                .add("user_id", DataTypes.StringType, false)
                .add("timestamp", DataTypes.LongType, false)
                .add("candidate", DataTypes.IntegerType, false);
        return spark.createDataFrame(JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(rows, 3), schema);
    }

    /**
     * Two attempts of one partition's round at once in one executor JVM (what speculation or a retry racing its
     * first attempt does), sharing the cached replica: each still trains from the broadcast state alone, so both
     * return what one attempt alone returns.
     */
    @Test
    void twoConcurrentAttemptsOfAPartitionEachReturnWhatOneAttemptAloneDoes() throws Exception {
        ModelConfig config = ModelConfig.tutorial(new int[]{16}, 5);
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(TestSpark.session().sparkContext());
        TwoTowerModel model = new TwoTowerModel(config, data.spec());
        var spec = sc.broadcast(data.spec());
        var corpus = sc.broadcast(data.corpus());
        var state = sc.broadcast(ModelState.of(model));
        DistributedOptions options = new DistributedOptions(2, 64, 12, false, "MEMORY_ONLY", 1);
        java.util.function.Function<String, ParameterAveraging.RoundTask> task = fit -> new ParameterAveraging.RoundTask(
                fit, config, spec, corpus, null, state, options, 1, 7, 1, 0, false);
        Interactions rows = data.train();
        WorkerResult alone = task.apply("alone").call(0, List.of(rows).iterator()).next();

        var pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            ParameterAveraging.RoundTask shared = task.apply("shared");
            var start = new java.util.concurrent.CountDownLatch(1);
            List<java.util.concurrent.Future<WorkerResult>> attempts = new ArrayList<>();
            for (int a = 0; a < 2; a++) {
                attempts.add(pool.submit(() -> {
                    start.await();
                    return shared.call(0, List.of(rows).iterator()).next();
                }));
            }
            start.countDown();
            for (var attempt : attempts) {
                WorkerResult r = attempt.get();
                assertEquals(alone.examples, r.examples);
                assertEquals(alone.lossSum, r.lossSum, 0.0);
                org.junit.jupiter.api.Assertions.assertArrayEquals(alone.dense, r.dense);
                for (int t = 0; t < alone.tables.length; t++) {
                    org.junit.jupiter.api.Assertions.assertArrayEquals(alone.tables[t].rows, r.tables[t].rows);
                    org.junit.jupiter.api.Assertions.assertArrayEquals(alone.tables[t].values, r.tables[t].values);
                    org.junit.jupiter.api.Assertions.assertArrayEquals(alone.tables[t].updates, r.tables[t].updates);
                }
            }
            assertEquals(12, alone.batches, "the attempt trained its round's steps");
        } finally {
            pool.shutdownNow();
            state.destroy();
            spec.destroy();
            corpus.destroy();
        }
    }

    @Test
    void invalidSettingsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new DistributedOptions(0, 1, 1, true, "MEMORY_ONLY", 1));
        assertThrows(IllegalArgumentException.class, () -> new DistributedOptions(1, 0, 1, true, "MEMORY_ONLY", 1));
        assertThrows(IllegalArgumentException.class, () -> new DistributedOptions(1, 1, 0, true, "MEMORY_ONLY", 1));
        assertThrows(IllegalArgumentException.class, () -> new DistributedOptions(1, 1, 1, true, "IN_THE_CLOUD", 1));
    }
}
