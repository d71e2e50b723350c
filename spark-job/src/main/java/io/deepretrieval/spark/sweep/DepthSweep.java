package io.deepretrieval.spark.sweep;

import io.deepretrieval.model.io.NativeThreads;
import io.deepretrieval.spark.train.StepThreads;
import io.deepretrieval.model.io.AtomicFiles;
import io.deepretrieval.model.serving.SavedModel;
import io.deepretrieval.model.metrics.FactorizedTopK;
import io.deepretrieval.model.towers.ModelConfig;
import io.deepretrieval.model.towers.TwoTowerModel;
import io.deepretrieval.model.train.CurvePoint;
import io.deepretrieval.model.features.FeatureSpec;
import io.deepretrieval.spark.train.CheckpointedTraining;
import io.deepretrieval.spark.SparkSessions;
import io.deepretrieval.spark.config.SweepConfig;
import io.deepretrieval.spark.ingest.DroppedLines;
import io.deepretrieval.spark.ingest.InputPolicy;
import io.deepretrieval.spark.report.InputReport;
import io.deepretrieval.spark.report.HtmlReport;
import io.deepretrieval.spark.report.SeedSpread;
import io.deepretrieval.spark.baseline.AlsBaseline;
import io.deepretrieval.spark.report.AccuracyPlot;
import io.deepretrieval.spark.report.CurveFiles;
import io.deepretrieval.spark.report.DepthResult;
import io.deepretrieval.spark.report.SummaryTable;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The main job: prepares the data on Spark, trains every depth setting, and writes per-depth curves (CSV, JSON),
 * a summary table and a top-100 plot. Results go to {@code <out>/<run>.incomplete/} and the folder is renamed to
 * {@code <out>/<run>/} only when everything is written, so a failed run never leaves a folder that looks complete.
 */
public final class DepthSweep {
    private static final Logger LOG = LoggerFactory.getLogger(DepthSweep.class);
    public static final String INCOMPLETE_SUFFIX = ".incomplete";

    private final SweepConfig config;
    private List<DroppedLines> dropped = List.of();
    private AlsBaseline.Result baseline;
    private int stepThreads = 1;

    public DepthSweep(SweepConfig config) {
        this.config = config;
    }

    /** A fresh run name such as {@code sweep-20261128-061500}. */
    public static String defaultRunName() {
        return "sweep-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    }

    /** Runs the sweep and returns the completed results folder. */
    public Path run(String runName) throws IOException {
        Path finalDir = Path.of(config.out()).resolve(runName);
        Path workDir = Path.of(config.out()).resolve(runName + INCOMPLETE_SUFFIX);
        if (Files.exists(finalDir) || Files.exists(workDir)) {
            throw new IllegalArgumentException("results folder " + finalDir + " already exists; choose another --name");
        }
        Files.createDirectories(workDir);
        AtomicFiles.writeString(workDir.resolve("config.json"), config.toJson());
        return runIn(workDir, finalDir);
    }

    /**
     * Continues an interrupted sweep in its {@code .incomplete} folder with the settings saved there: depths with
     * complete curves are not retrained, a depth with a checkpoint continues from it, the rest start afresh.
     */
    public static Path resume(Path incompleteDir, String master) throws IOException {
        Path dir = incompleteDir.toAbsolutePath().normalize();
        String name = dir.getFileName().toString();
        if (!name.endsWith(INCOMPLETE_SUFFIX) || !Files.isRegularFile(dir.resolve("config.json"))) {
            throw new IllegalArgumentException("--resume needs the .incomplete folder of an interrupted sweep (with its"
                    + " config.json), got " + dir);
        }
        SweepConfig saved = SweepConfig.load(dir.resolve("config.json"));
        if (master != null) {
            saved = saved.with(com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode().put("master", master), "--master");
        }
        Files.deleteIfExists(dir.resolve("FAILED.txt"));
        return new DepthSweep(saved).runIn(dir, dir.resolveSibling(name.substring(0, name.length() - INCOMPLETE_SUFFIX.length())));
    }

    private Path runIn(Path workDir, Path finalDir) throws IOException {
        LOG.info("Writing results to {} (renamed to {} when complete)", workDir, finalDir);
        LOG.info("Settings: {}", config.toJson().replaceAll("\\s+", " "));
        try {
            train(workDir);
        } catch (RuntimeException | IOException | Error e) {
            // Say why the folder is incomplete (the folder name already says it is): the trace, whose first line is
            // the exception and its message.
            java.io.StringWriter trace = new java.io.StringWriter();
            e.printStackTrace(new java.io.PrintWriter(trace));
            AtomicFiles.writeString(workDir.resolve("FAILED.txt"), trace.toString());
            throw e;
        }
        Files.move(workDir, finalDir);
        LOG.info("Results: {}", finalDir.toAbsolutePath());
        return finalDir;
    }

    private void train(Path workDir) throws IOException {
        NativeThreads.apply(config.nativeThreads());
        try (SparkSession spark = SparkSessions.create(config.master(), "deep-retrieval depth sweep")) {
            LOG.info("Preparing MovieLens from {} on Spark {}; driver computes with ND4J {}", config.data(),
                    spark.version(), io.deepretrieval.model.io.BackendInfo.describe());
            stepThreads = StepThreads.resolve(config.stepThreads(), config.distributed() != null, spark);
            PreparedData data = PreparedData.prepare(spark, config.data(), config.seed(),
                    config.testFraction(), config.timestampBuckets(), config.maxTokens(),
                    InputPolicy.fromConfig(config.inputPolicy()));
            dropped = data.dropped();
            InputReport.write(workDir, dropped);
            if (config.alsBaseline()) {
                baseline = AlsBaseline.fitAndScore(data.trainRows(), data.testRows(), data.corpus().size(),
                        new FactorizedTopK(config.topKArray()), config.seed(), config.topK().get(config.topK().size() - 1));
                LOG.info("Baseline {}: {}", baseline.label(), baseline.test());
                AtomicFiles.write(workDir.resolve("baseline.json"), CurveFiles.JSON.writeValueAsBytes(
                        CurveFiles.JSON.createObjectNode().put("model", baseline.label()).put("rank", baseline.rank())
                                .put("regParam", baseline.regParam()).put("alpha", baseline.alpha())
                                .put("validationTopK", baseline.validationTopK())
                                .set("testAccuracy", CurveFiles.JSON.valueToTree(accuracyMap(baseline.test())))));
            }
            Path specFile = workDir.resolve("feature-spec.json");
            if (Files.exists(specFile) && !FeatureSpec.read(specFile).toJson().equals(data.spec().toJson())) {
                throw new IllegalArgumentException("the data in " + config.data() + " no longer gives the feature spec"
                        + " this run started with (" + specFile + "); resume with the same data or start a new run");
            }
            data.spec().write(specFile);
            LOG.info("{} train / {} test ratings, {} candidate records, features {}", data.trainRows().count(),
                    data.testRows().count(), data.corpus().size(), java.util.stream.Stream.concat(data.spec().query().stream(),
                            data.spec().candidate().stream()).map(f -> f.name() + " (" + f.tableRows() + " rows)").toList());
            List<DepthResult> results = new ArrayList<>();
            for (List<Integer> layers : config.layerSizes()) {
                for (int s = 0; s < config.seeds(); s++) {
                    // Several seeds vary initialisation and shuffling; the split stays the one of config.seed().
                    Long seed = config.seeds() == 1 ? null : config.seed() + s;
                    ModelConfig modelConfig = config.model(layers, seed == null ? config.seed() : seed);
                    String label = modelConfig.depthLabel() + (seed == null ? "" : "_seed" + seed);
                    Path done = workDir.resolve("curve_" + label + ".json");
                    if (Files.exists(done)) {
                        LOG.info("{} already done in an earlier attempt: not retrained", layers + (seed == null ? "" : " seed " + seed));
                        results.add(CurveFiles.read(done));
                    } else {
                        results.add(trainDepth(data, modelConfig, seed, label, workDir));
                    }
                    writeReports(workDir, results);
                }
            }
        }
    }

    private DepthResult trainDepth(PreparedData data, ModelConfig modelConfig, Long seed, String fileLabel, Path dir)
            throws IOException {
        int[] layers = modelConfig.layerSizes();
        String label = Arrays.toString(layers) + (seed == null ? "" : " seed " + seed);
        long shuffleSeed = modelConfig.initSeed();
        io.deepretrieval.model.train.TrainingOptions training = new io.deepretrieval.model.train.TrainingOptions(
                config.batchSize(), config.epochs(), config.evalEvery(), shuffleSeed, stepThreads);
        if (config.distributed() == null) {
            LOG.info("Training {} for {} epochs in the driver JVM, batch {} split over {} step thread(s)", label,
                    config.epochs(), config.batchSize(), stepThreads);
        } else {
            LOG.info("Training {} for {} epochs on {} Spark workers, batch {} per worker", label, config.epochs(),
                    config.workers(), config.batchSizePerWorker());
        }
        Path checkpointFile = dir.resolve("checkpoints").resolve(fileLabel + ".ckpt");
        // Distributed, the test rows are scored where they are cached; in the driver JVM, they are collected once.
        io.deepretrieval.model.train.HeldOutRows test = config.distributed() == null
                ? io.deepretrieval.model.train.HeldOutRows.inMemory(data.test())
                : new io.deepretrieval.spark.train.DistributedHeldOut(data.testRows(), data.spec(),
                config.distributed().workers(), config.distributed().nativeThreads());
        CheckpointedTraining.Result run;
        try {
            run = CheckpointedTraining.run(modelConfig, data.spec(), data.corpus(), data::train,
                    data.trainRows(), test, training, config.distributed(), new FactorizedTopK(config.topKArray()),
                    checkpointFile, new ConsoleProgress(label), label);
        } finally {
            if (test instanceof io.deepretrieval.spark.train.DistributedHeldOut d) {
                d.close();
            }
        }
        TwoTowerModel model = run.model();
        List<CurvePoint> curve = run.curve();
        String failure = run.failure();
        double seconds = curve.isEmpty() ? 0 : curve.get(curve.size() - 1).trainSeconds();
        DepthResult result = new DepthResult(layers, seed, curve, seconds, failure);
        if (result.completed()) {
            saveModel(dir, model, data, result);
        }
        CurveFiles.write(dir, result, config.topKArray());
        return result;
    }

    /** The trained depth as a saved-model bundle under {@code models/<layers>/} (see {@link SavedModel}). */
    private void saveModel(Path dir, TwoTowerModel model, PreparedData data, DepthResult result) throws IOException {
        com.fasterxml.jackson.databind.node.ObjectNode info = CurveFiles.JSON.createObjectNode();
        info.put("layerSizes", Arrays.toString(result.layerSizes()));
        info.set("settings", CurveFiles.JSON.readTree(config.toJson()));
        com.fasterxml.jackson.databind.node.ObjectNode metrics = info.putObject("finalMetrics");
        CurvePoint last = result.last();
        if (last != null) {
            metrics.put("epoch", last.epoch());
            for (int k : config.topKArray()) {
                metrics.put("top" + k, last.accuracy().at(k));
            }
        }
        Path target = dir.resolve("models").resolve(result.label());
        SavedModel.save(target, model, data.spec(), data.corpus(), info);
        LOG.info("Saved model {} to {}", Arrays.toString(result.layerSizes()), target);
    }

    private static java.util.Map<String, Double> accuracyMap(io.deepretrieval.model.metrics.TopKAccuracy a) {
        java.util.Map<String, Double> m = new java.util.LinkedHashMap<>();
        for (int k : a.ks()) {
            m.put("top" + k, a.at(k));
        }
        return m;
    }

    private void writeReports(Path dir, List<DepthResult> results) throws IOException {
        SummaryTable.write(dir, results, config.topKArray(), dropped, baseline);
        int k = config.topK().contains(100) ? 100 : config.topK().get(config.topK().size() - 1);
        Path plot = dir.resolve("top" + k + ".png");
        AccuracyPlot.write(plot, results, k, baseline == null ? null : baseline.label(),
                baseline == null ? Double.NaN : baseline.test().at(k));
        HtmlReport.write(dir, config.toJson(), results, config.topKArray(), baseline, dropped, plot);
        if (config.seeds() > 1) {
            SeedSpread.write(dir, results, k);
        }
    }
}
