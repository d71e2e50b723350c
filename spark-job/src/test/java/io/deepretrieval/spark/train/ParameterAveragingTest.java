package io.deepretrieval.spark.train;

import io.deepretrieval.model.features.Interactions;
import io.deepretrieval.model.io.NativeThreads;
import io.deepretrieval.model.metrics.FactorizedTopK;
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
import io.deepretrieval.spark.sweep.PreparedData;
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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ParameterAveragingTest {
    @TempDir
    static Path dir;
    static PreparedData data;

    @BeforeAll
    static void prepare() throws IOException {
        SyntheticMovieLens.write100k(dir.resolve("ml"), 60, 120, 3000, 9);
        data = PreparedData.prepare(TestSpark.session(), dir.resolve("ml").toString(), 42, 0.2, 100, 10_000);
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
        new LocalTrainer(training, new FactorizedTopK(10), TrainingListener.NONE).fit(local, data.corpus(), data.train(), data.test());

        TwoTowerModel distributed = new TwoTowerModel(config, data.spec());
        new ParameterAveraging(new DistributedOptions(1, 256, 1, true, "MEMORY_ONLY", 1), training, new FactorizedTopK(10),
                TrainingListener.NONE).fit(distributed, data.spec(), data.corpus(), data.trainRows(), data.test());

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
        assertTrue(new ModelState(a, accA).values().length > 10_000);
    }

    @Test
    void twoWorkersLearnThePlantedPreference() {
        ModelConfig config = ModelConfig.tutorial(new int[]{32}, 5);
        ParameterAveraging trainer = new ParameterAveraging(new DistributedOptions(2, 128, 3, true, "MEMORY_ONLY", 1),
                new TrainingOptions(256, 6, 3, 7), new FactorizedTopK(1, 20), TrainingListener.NONE);
        List<CurvePoint> curve = trainer.fit(new TwoTowerModel(config, data.spec()), data.spec(), data.corpus(),
                data.trainRows(), data.test());
        assertEquals(List.of(3, 6), curve.stream().map(CurvePoint::epoch).toList());
        // 120 movies, 20 per user group: a random ranking gets top-20 right one time in 6.
        double top20 = curve.get(1).accuracy().at(20);
        assertTrue(top20 > 0.4, "top-20 " + top20);
        assertTrue(trainer.timer().rounds() > 0 && trainer.timer().overheadShare() < 1);
    }

    /**
     * Two workers, one averaging round, against a reference computed in this JVM without the averaging code: two
     * replicas trained from the same initial state on the rows each partition holds, in the order each one shuffles
     * them, then averaged by hand as {@link WorkerResult} documents it (values and Adagrad accumulators, each weighted
     * by the examples the replica trained on).
     *
     * <p>The partitions are made deterministic rather than reproduced: with {@code repartition=false} the trainer
     * coalesces its input to {@code workers} partitions, and the input here is the training rows in DataFrame order
     * spread over three slices with no preferred locations, which Spark coalesces by position: partition 0 gets the
     * first slice, partition 1 the other two. (The round-robin shuffle of {@code repartition=true} places rows
     * deterministically but concatenates the shuffle blocks in fetch order, which is not part of Spark's contract.)
     * Unequal partitions (1:2) make the example weights matter.
     */
    @Test
    void twoWorkersOneRoundEqualTwoReplicasTrainedAloneThenAveragedByTheirExamples() {
        ModelConfig config = ModelConfig.tutorial(new int[]{16, 8}, 5);
        long shuffleSeed = 7;
        int batch = 128;
        Interactions all = data.train();
        int n = all.size();
        // Spark's slices of a parallelized list: slice i holds positions [i*n/3, (i+1)*n/3).
        int cut = n / 3;
        Interactions[] parts = {all.select(null, 0, cut), all.select(null, cut, n)};
        // One round: every partition's rows fit in averagingFrequency batches; one epoch: one round in all.
        int averagingFrequency = (parts[1].size() + batch - 1) / batch + 1;
        DistributedOptions options = new DistributedOptions(2, batch, averagingFrequency, false, "MEMORY_ONLY", 1);
        TrainingOptions training = new TrainingOptions(256, 1, 1, shuffleSeed);

        SparkSession spark = data.trainRows().sparkSession();
        // The raw training rows, in the order data.train() encoded them.
        List<Row> raw = data.trainRows().select("user_id", "timestamp", "candidate").collectAsList();
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

        // Reference: each partition's replica as the round task runs it, trained here.
        TwoTowerModel[] replicas = new TwoTowerModel[2];
        long[] examples = new long[2];
        double lossSum = 0;
        long batches = 0;
        for (int p = 0; p < 2; p++) {
            replicas[p] = new TwoTowerModel(config, data.spec());
            start.applyTo(replicas[p]);
            int[] order = EpochShuffle.order(parts[p].size(), shuffleSeed + ParameterAveraging.PARTITION_SEED_STRIDE * p, 1);
            try (TrainingStep step = new TrainingStep(replicas[p], data.corpus())) {
                for (int from = 0; from < parts[p].size(); from += batch) {
                    int to = Math.min(parts[p].size(), from + batch);
                    lossSum += step.run(parts[p].select(order, from, to));
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
        trainer.fit(distributed, data.spec(), data.corpus(), rows, data.test());
        assertEquals(1, trainer.timer().rounds(), "expected exactly one averaging round");
        assertEquals(lossSum / batches, meanLoss[0], 1e-6 * Math.abs(meanLoss[0]), "mean loss of the round's steps");

        double w0 = examples[0];
        double w1 = examples[1];
        double worstValue = 0;
        double worstAccumulator = 0;
        double unweighted = 0;
        double replicasApart = 0;
        for (Parameter got : distributed.parameters().values()) {
            Parameter a = replicas[0].parameters().get(got.name());
            Parameter b = replicas[1].parameters().get(got.name());
            double valueDiff = 0;
            double accDiff = 0;
            for (int i = 0; i < got.values().length; i++) {
                float expected = (float) ((a.values()[i] * w0 + b.values()[i] * w1) / (w0 + w1));
                float expectedAcc = (float) ((a.accumulator()[i] * w0 + b.accumulator()[i] * w1) / (w0 + w1));
                valueDiff = Math.max(valueDiff, Math.abs(got.values()[i] - expected));
                accDiff = Math.max(accDiff, Math.abs(got.accumulator()[i] - expectedAcc) / Math.max(1, Math.abs(expectedAcc)));
                unweighted = Math.max(unweighted, Math.abs(got.values()[i] - (a.values()[i] + b.values()[i]) / 2.0));
                replicasApart = Math.max(replicasApart, Math.abs(a.values()[i] - b.values()[i]));
            }
            assertTrue(valueDiff < 1e-5, got.name() + ": values differ from the example-weighted average by " + valueDiff);
            assertTrue(accDiff < 1e-5, got.name() + ": accumulators differ from the example-weighted average by " + accDiff);
            worstValue = Math.max(worstValue, valueDiff);
            worstAccumulator = Math.max(worstAccumulator, accDiff);
        }
        // The comparison can tell: the replicas went apart, and the plain mean of the two is not the result.
        assertTrue(replicasApart > 1e-2, "the replicas hardly differ: " + replicasApart);
        assertTrue(unweighted > 1e-3, "the result is also the unweighted mean: " + unweighted);
        System.out.println("two-worker reference: examples " + examples[0] + " + " + examples[1] + ", " + batches
                + " steps; largest difference " + worstValue + " (values), " + worstAccumulator
                + " (accumulators, relative); unweighted mean off by " + unweighted + ", replicas apart by " + replicasApart);
    }

    /** The rows as a DataFrame of the trainer's input columns, in order, over three slices of Spark's own cutting. */
    private static Dataset<Row> threeSlices(SparkSession spark, List<Row> rows) {
        StructType schema = new StructType()
                .add("user_id", DataTypes.StringType, false)
                .add("timestamp", DataTypes.LongType, false)
                .add("candidate", DataTypes.IntegerType, false);
        return spark.createDataFrame(JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(rows, 3), schema);
    }

    @Test
    void invalidSettingsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new DistributedOptions(0, 1, 1, true, "MEMORY_ONLY", 1));
        assertThrows(IllegalArgumentException.class, () -> new DistributedOptions(1, 0, 1, true, "MEMORY_ONLY", 1));
        assertThrows(IllegalArgumentException.class, () -> new DistributedOptions(1, 1, 0, true, "MEMORY_ONLY", 1));
        assertThrows(IllegalArgumentException.class, () -> new DistributedOptions(1, 1, 1, true, "IN_THE_CLOUD", 1));
    }
}
