package io.deepretrieval.spark.cli;

import io.deepretrieval.model.train.CurvePoint;
import io.deepretrieval.model.train.EpochShuffle;
import io.deepretrieval.spark.ingest.MovieLensReader;
import io.deepretrieval.spark.ml.PreparedInteractions;
import io.deepretrieval.spark.ml.TwoTowerRetrieval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.deepretrieval.model.io.ResidentMemory;
import io.deepretrieval.model.metrics.FactorizedTopK;
import io.deepretrieval.model.towers.ModelConfig;
import io.deepretrieval.model.towers.TwoTowerModel;
import io.deepretrieval.model.train.LocalTrainer;
import io.deepretrieval.model.train.StepProfile;
import io.deepretrieval.model.train.TrainingListener;
import io.deepretrieval.model.io.NativeThreads;
import io.deepretrieval.model.train.TrainingOptions;
import io.deepretrieval.model.train.TrainingStep;
import io.deepretrieval.spark.SparkSessions;
import io.deepretrieval.spark.bench.SyntheticRatings;
import io.deepretrieval.spark.train.DistributedOptions;
import io.deepretrieval.spark.train.StepThreads;
import io.deepretrieval.spark.train.ParameterAveraging;
import org.apache.spark.sql.SparkSession;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;

/**
 * {@code bench}: trains one depth for a few epochs and prints one JSON line per figure on stdout (speed, step time,
 * evaluation time, memory, time per phase). Not a test: figures vary with the machine.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmark training and evaluation; prints one JSON line per figure on stdout.")
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--data", description = "MovieLens folder (default: ${DEFAULT-VALUE})", defaultValue = "data/ml-100k")
    Path data;

    @Option(names = "--synthetic", description = "instead of --data, generate (and cache under --cache) this many MovieLens-shaped ratings")
    Long synthetic;

    @Option(names = "--cache", defaultValue = "target/bench-data", description = "where synthetic data is cached (default: ${DEFAULT-VALUE})")
    Path cache;

    @Option(names = "--layers", defaultValue = "32", description = "layer sizes, comma-separated (default: ${DEFAULT-VALUE})")
    String layers;

    @Option(names = "--epochs", defaultValue = "5", description = "timed epochs after the warm-up steps (default: ${DEFAULT-VALUE})")
    int epochs;

    @Option(names = "--batch-size", defaultValue = "2048")
    int batchSize;

    @Option(names = "--warmup-steps", defaultValue = "250",
            description = "untimed steps first, repeating the first epoch's batches if needed (default: ${DEFAULT-VALUE})")
    int warmupSteps;

    @Option(names = "--eval-passes", defaultValue = "3", description = "timed evaluation passes (default: ${DEFAULT-VALUE})")
    int evalPasses;

    @Option(names = "--idle-rounds", defaultValue = "0",
            description = "after the timed passes: rounds of an idle pause then one epoch, printing resident memory and"
                    + " the step's SameDiff sessions (default: ${DEFAULT-VALUE})")
    int idleRounds;

    @Option(names = "--idle-seconds", defaultValue = "35",
            description = "pause of each idle round, a stand-in for a long evaluation (default: ${DEFAULT-VALUE})")
    int idleSeconds;

    @Option(names = "--master", defaultValue = "local[*]")
    String master;

    @Option(names = "--workers", defaultValue = "0",
            description = "0: single-JVM trainer; N: parameter averaging over N Spark partitions (default: ${DEFAULT-VALUE})")
    int workers;

    @Option(names = "--averaging-frequency", defaultValue = "20")
    int averagingFrequency;

    @Option(names = "--native-threads", defaultValue = "1",
            description = "ND4J op/BLAS threads per training task; 0: ND4J's default, all cores (default: ${DEFAULT-VALUE})")
    int nativeThreads;

    @Option(names = "--step-threads", defaultValue = "0",
            description = "threads a training step splits its batch over; 0: every CPU core (1 on a GPU), or spark.task.cpus"
                    + " with --workers"
                    + " (default: ${DEFAULT-VALUE})")
    int stepThreads;

    @Spec
    CommandSpec spec;

    private final ObjectMapper json = new ObjectMapper();
    private String dataset;
    private int threads;

    @Override
    public Integer call() throws Exception {
        int[] sizes = checkOptions();
        Path dir = data;
        dataset = data.getFileName().toString();
        if (synthetic != null) {
            dataset = "synthetic-" + synthetic;
            dir = SyntheticRatings.write(cache.resolve(dataset), synthetic, 7);
        }
        NativeThreads.apply(nativeThreads);
        long prepStart = System.nanoTime();
        PreparedInteractions prepared;
        try (SparkSession spark = SparkSessions.create(master, "deep-retrieval bench")) {
            // The Estimator's own preprocessing and split (the tutorial's settings), so the bench trains what fit does.
            prepared = new TwoTowerRetrieval().setSeed(42).setValidationFraction(0.2)
                    .prepare(new MovieLensReader(spark).readTitledRatings(dir.toString()).table());
            threads = StepThreads.resolve(stepThreads, workers > 0, spark);
            emit("step_threads", threads, "threads");
            if (workers > 0) {
                emit("preprocess_seconds", (System.nanoTime() - prepStart) / 1e9, "s");
                return distributed(prepared, sizes);
            }
            // Both sides in the driver before the session stops: the single-JVM bench needs no Spark after this.
            prepared.train();
            prepared.heldOut();
        }
        emit("preprocess_seconds", (System.nanoTime() - prepStart) / 1e9, "s");
        emit("peak_rss_after_preprocess_mb", ResidentMemory.peakBytes() / 1048576.0, "MB");
        emit("train_examples", prepared.train().size(), "examples");
        System.out.println(json.writeValueAsString(json.createObjectNode().put("bench", "deep-retrieval")
                .put("dataset", dataset).put("layers", layers).put("metric", "backend")
                .put("value", Nd4j.getBackend().getClass().getSimpleName())));

        TwoTowerModel model = new TwoTowerModel(ModelConfig.tutorial(sizes, 42), prepared.spec());
        TrainingOptions options = new TrainingOptions(batchSize, epochs + 1, 5, 42, threads);
        LocalTrainer trainer = new LocalTrainer(options, FactorizedTopK.tutorial(), TrainingListener.NONE);
        TrainingStep step = new TrainingStep(model, prepared.corpus(), threads);
        // Warm-up: builds the gradient graphs, fills their array caches and lets the JIT compile ND4J's Java-side
        // graph executor. With both cores training, the JIT's own threads get little CPU and steps only reach their
        // steady speed after ~200 (measured: 30 ms per [32] step at steps 100-200, 18-20 ms from step 200 on).
        int[] order = EpochShuffle.order(prepared.train().size(), 42, 0);
        int fullBatches = Math.max(1, prepared.train().size() / batchSize);
        step.collectGarbage();  // as the trainer does before its first step
        for (int s = 0; s < warmupSteps; s++) {
            int from = (s % fullBatches) * batchSize;
            step.run(prepared.train().select(order, from, Math.min(prepared.train().size(), from + batchSize)));
            if ((s + 1) % fullBatches == 0) {
                step.collectGarbage();  // once per pass over the data, as the trainer does at each epoch's end
            }
        }
        step.collectGarbage();
        step.profile().reset();
        long rssAfterWarmup = ResidentMemory.bytes();
        long start = System.nanoTime();
        for (int e = 1; e <= epochs; e++) {
            trainer.runEpoch(step, prepared.train(), e);
            step.collectGarbage();
        }
        double trainSeconds = (System.nanoTime() - start) / 1e9;
        long rssAfterTraining = ResidentMemory.bytes();
        StepProfile p = step.profile();
        emit("train_examples_per_second", prepared.train().size() * (double) epochs / trainSeconds, "examples/s");
        emit("epoch_seconds", trainSeconds / epochs, "s");
        emit("step_ms_median", p.medianStepMillis(), "ms");
        emit("phase_input_assembly_seconds", p.inputSeconds() / epochs, "s/epoch");
        emit("phase_forward_backward_seconds", p.forwardBackwardSeconds() / epochs, "s/epoch");
        emit("phase_optimizer_update_seconds", p.optimizerSeconds() / epochs, "s/epoch");

        double[] evals = new double[evalPasses];
        for (int i = 0; i < evalPasses; i++) {
            long t = System.nanoTime();
            trainer.evaluate(model, prepared.corpus(), prepared.heldOut());
            evals[i] = (System.nanoTime() - t) / 1e9;
        }
        Arrays.sort(evals);
        emit("phase_evaluation_seconds_per_pass", evals[evals.length / 2], "s");
        emit("eval_queries", prepared.heldOut().size(), "queries");
        emit("rss_after_warmup_mb", rssAfterWarmup / 1048576.0, "MB");
        emit("rss_after_training_mb", rssAfterTraining / 1048576.0, "MB");
        emit("rss_end_mb", ResidentMemory.bytes() / 1048576.0, "MB");
        emit("peak_rss_mb", ResidentMemory.peakBytes() / 1048576.0, "MB");
        // Slice threads idle through a long evaluation: each round shows whether they (and their sessions) last.
        for (int r = 1; r <= idleRounds; r++) {
            Thread.sleep(idleSeconds * 1000L);
            trainer.runEpoch(step, prepared.train(), epochs + r);
            step.collectGarbage();
            emit("idle_round_" + r + "_rss_mb", ResidentMemory.bytes() / 1048576.0, "MB");
            emit("idle_round_" + r + "_sessions", step.sessions(), "sessions");
        }
        step.close();
        return 0;
    }

    /** Every option's range, before anything is generated or timed; returns the layer sizes. */
    private int[] checkOptions() {
        OptionChecks.excludes(spec, "--synthetic", "it generates the ratings instead of reading a folder", "--data");
        if (synthetic != null) {
            OptionChecks.atLeast("--synthetic", synthetic, 1);
        }
        int[] sizes = TrainCommand.layerSizes(layers);
        for (int size : sizes) {
            if (size < 1 || size > ModelConfig.MAX_LAYER_SIZE) {
                throw new IllegalArgumentException("--layers " + layers + ": layer size " + size
                        + " must be between 1 and " + ModelConfig.MAX_LAYER_SIZE);
            }
        }
        OptionChecks.atLeast("--epochs", epochs, 1);
        OptionChecks.atLeast("--batch-size", batchSize, 1);
        OptionChecks.atLeast("--warmup-steps", warmupSteps, 0);
        OptionChecks.atLeast("--eval-passes", evalPasses, 1);
        OptionChecks.atLeast("--idle-rounds", idleRounds, 0);
        OptionChecks.atLeast("--idle-seconds", idleSeconds, 0);
        OptionChecks.atLeast("--workers", workers, 0);
        OptionChecks.atLeast("--averaging-frequency", averagingFrequency, 1);
        OptionChecks.atLeast("--native-threads", nativeThreads, 0);
        OptionChecks.atLeast("--step-threads", stepThreads, 0);
        return sizes;
    }

    /** Parameter averaging: speed and the share of round time spent outside replicas' training steps. */
    private int distributed(PreparedInteractions prepared, int[] sizes) throws Exception {
        TwoTowerModel model = new TwoTowerModel(ModelConfig.tutorial(sizes, 42), prepared.spec());
        DistributedOptions options = new DistributedOptions(workers, batchSize, averagingFrequency, true, "MEMORY_ONLY", nativeThreads);
        double[] seconds = new double[epochs + 1];
        ParameterAveraging[] self = new ParameterAveraging[1];
        ParameterAveraging trainer = new ParameterAveraging(options, new TrainingOptions(batchSize, epochs + 1, epochs + 1, 42, threads),
                FactorizedTopK.tutorial(), new TrainingListener() {
                    private long last = System.nanoTime();

                    @Override
                    public void epochDone(int epoch, int all, double loss, double eps, double eta) {
                        long now = System.nanoTime();
                        seconds[epoch - 1] = (now - last) / 1e9;
                        last = now;
                        if (epoch == 1) {
                            self[0].timer().reset(); // epoch 1 builds the replicas: time the steady state
                        }
                    }

                    @Override
                    public void evaluated(CurvePoint point) {
                        last = System.nanoTime(); // leave the final evaluation out of the last epoch's time
                    }
                });
        self[0] = trainer;
        trainer.fit(model, prepared.spec(), prepared.corpus(), prepared.trainRows(), prepared.heldOut());
        double timed = Arrays.stream(seconds, 1, epochs + 1).sum(); // epoch 1 builds the replicas
        emit("workers", workers, "replicas");
        emit("averaging_frequency", averagingFrequency, "steps");
        emit("train_examples_per_second", prepared.train().size() * (double) epochs / timed, "examples/s");
        emit("epoch_seconds", timed / epochs, "s");
        emit("averaging_rounds", trainer.timer().rounds(), "rounds");
        emit("overhead_share_outside_training_steps", trainer.timer().overheadShare(), "fraction");
        emit("overhead_broadcast_share", trainer.timer().broadcastShare(), "fraction");
        emit("overhead_restore_state_share", trainer.timer().restoreShare(), "fraction");
        emit("overhead_collect_state_share", trainer.timer().collectShare(), "fraction");
        emit("overhead_scheduling_transfer_aggregation_share", trainer.timer().schedulingAndTransferShare(), "fraction");
        emit("gc_share_once_per_epoch", trainer.timer().gcShare(), "fraction");
        emit("peak_rss_mb", ResidentMemory.peakBytes() / 1048576.0, "MB");
        return 0;
    }

    private void emit(String metric, double value, String unit) throws Exception {
        ObjectNode line = json.createObjectNode().put("bench", "deep-retrieval").put("dataset", dataset)
                .put("layers", layers).put("metric", metric).put("value", value).put("unit", unit);
        System.out.println(json.writeValueAsString(line));
        System.out.flush();
    }
}
