package io.deepretrieval.spark.sweep;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.deepretrieval.model.features.FeatureSpec;
import io.deepretrieval.model.io.AtomicFiles;
import io.deepretrieval.model.io.BackendInfo;
import io.deepretrieval.model.io.NativeThreads;
import io.deepretrieval.model.metrics.FactorizedTopK;
import io.deepretrieval.model.metrics.TopKAccuracy;
import io.deepretrieval.model.train.CurvePoint;
import io.deepretrieval.spark.SparkSessions;
import io.deepretrieval.spark.baseline.AlsBaseline;
import io.deepretrieval.spark.baseline.IndexedPairs;
import io.deepretrieval.spark.config.SweepConfig;
import io.deepretrieval.spark.ingest.DroppedLines;
import io.deepretrieval.spark.ingest.InputPolicy;
import io.deepretrieval.spark.ingest.MovieLensReader;
import io.deepretrieval.spark.ml.TrainingStoppedException;
import io.deepretrieval.spark.ml.TwoTowerRetrieval;
import io.deepretrieval.spark.ml.TwoTowerRetrievalModel;
import io.deepretrieval.spark.preprocess.InteractionSplits;
import io.deepretrieval.spark.report.AccuracyPlot;
import io.deepretrieval.spark.report.CurveFiles;
import io.deepretrieval.spark.report.DepthResult;
import io.deepretrieval.spark.report.HtmlReport;
import io.deepretrieval.spark.report.InputReport;
import io.deepretrieval.spark.report.SeedSpread;
import io.deepretrieval.spark.report.SummaryTable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.apache.spark.sql.functions.lit;

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
    /** The column that marks the test rows for the Estimator. */
    static final String HELD_OUT = "held_out";

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
            saved = saved.with(JsonNodeFactory.instance.objectNode().put("master", master), "--master");
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
                    spark.version(), BackendInfo.describe());
            MovieLensReader.TitledRatings data = new MovieLensReader(spark, InputPolicy.fromConfig(config.inputPolicy()))
                    .readTitledRatings(config.data());
            dropped = data.dropped();
            InputReport.write(workDir, dropped, data.notes());
            // One split for every depth and seed, so that seeds vary initialisation and shuffling only: the rows are
            // marked and the Estimator holds out the marked ones (validationIndicatorCol).
            InteractionSplits.Split split = MovieLensReader.KEYS.random(data.table(), config.seed(), config.testFraction());
            Dataset<Row> marked = split.train().withColumn(HELD_OUT, lit(false))
                    .unionByName(split.test().withColumn(HELD_OUT, lit(true))).cache();
            try {
                LOG.info("{} train / {} test ratings", split.train().count(), split.test().count());
                if (config.alsBaseline()) {
                    baseline(workDir, split);
                }
                List<DepthResult> results = new ArrayList<>();
                for (List<Integer> layers : config.layerSizes()) {
                    for (int s = 0; s < config.seeds(); s++) {
                        // Several seeds vary initialisation and shuffling; the split stays the one of config.seed().
                        Long seed = config.seeds() == 1 ? null : config.seed() + s;
                        // Not run yet: a result without points, for its names.
                        DepthResult run = new DepthResult(layers.stream().mapToInt(Integer::intValue).toArray(), seed,
                                List.of(), 0, null);
                        Path done = workDir.resolve("curve_" + run.label() + ".json");
                        if (Files.exists(done)) {
                            LOG.info("{} already done in an earlier attempt: not retrained", layers + (seed == null ? "" : " seed " + seed));
                            results.add(CurveFiles.read(done));
                        } else {
                            results.add(trainDepth(marked, run, workDir));
                        }
                        writeReports(workDir, results);
                    }
                }
            } finally {
                marked.unpersist();
            }
        }
    }

    /** ALS on the sweep's split, its ids indexed over every row. */
    private void baseline(Path workDir, InteractionSplits.Split split) throws IOException {
        IndexedPairs pairs = IndexedPairs.fit(split.train().unionByName(split.test()), "user_id", "movie_id");
        Dataset<Row> train = pairs.encode(split.train());
        Dataset<Row> test = pairs.encode(split.test());
        try {
            baseline = AlsBaseline.fitAndScore(train, test, pairs.items(), new FactorizedTopK(config.topKArray()),
                    config.seed(), config.topK().get(config.topK().size() - 1));
        } finally {
            train.unpersist();
            test.unpersist();
        }
        LOG.info("Baseline {}: {}", baseline.label(), baseline.test());
        AtomicFiles.write(workDir.resolve("baseline.json"), CurveFiles.JSON.writeValueAsBytes(
                CurveFiles.JSON.createObjectNode().put("model", baseline.label()).put("rank", baseline.rank())
                        .put("regParam", baseline.regParam()).put("alpha", baseline.alpha())
                        .put("validationTopK", baseline.validationTopK())
                        .set("testAccuracy", CurveFiles.JSON.valueToTree(accuracyMap(baseline.test())))));
    }

    /** The sweep's settings for one depth and seed as the Estimator's params. */
    TwoTowerRetrieval estimator(int[] layers, long seed, Path checkpoints) {
        SweepConfig c = config;
        TwoTowerRetrieval e = new TwoTowerRetrieval().setLayerSizes(layers).setEmbeddingDim(c.embeddingDim())
                .setMaxEpochs(c.epochs()).setEvalEvery(c.evalEvery()).setSeed(seed).setLearningRate(c.learningRate())
                .setInitialAccumulator(c.initialAccumulator()).setEpsilon(c.epsilon())
                .setLearningRateSchedule(c.learningRateSchedule().entrySet().stream()
                        .map(en -> en.getKey() + ":" + en.getValue()).toArray(String[]::new))
                .setTimestampBuckets(c.timestampBuckets()).setMaxTokens(c.maxTokens()).setTopK(c.topKArray())
                .setTemperature(c.temperature()).setRemoveAccidentalHits(c.removeAccidentalHits())
                .setLogQCorrection(c.logQCorrection()).setMixedNegatives(c.mixedNegatives())
                .setStepThreads(c.stepThreads()).setNativeThreads(c.nativeThreads())
                .setValidationIndicatorCol(HELD_OUT).setCheckpointDir(checkpoints.toString())
                .setRankingK(0); // the sweep reports the top-K curve only: no per-user ranking to compute
        if (c.workers() > 0) {
            e.setNumWorkers(c.workers()).setBatchSize(c.batchSizePerWorker()).setAveragingFrequency(c.averagingFrequency())
                    .setRepartition(c.repartition()).setStorageLevel(c.storageLevel());
        } else {
            e.setBatchSize(c.batchSize());
        }
        return e;
    }

    /** Fits one depth and seed through the Estimator, saves its model and writes its curve files. */
    private DepthResult trainDepth(Dataset<Row> marked, DepthResult run, Path dir) throws IOException {
        int[] layers = run.layerSizes();
        String label = run.displayName();
        if (config.workers() == 0) {
            LOG.info("Training {} for {} epochs in the driver JVM, batch {}", label, config.epochs(), config.batchSize());
        } else {
            LOG.info("Training {} for {} epochs on {} Spark workers, batch {} per worker", label, config.epochs(),
                    config.workers(), config.batchSizePerWorker());
        }
        TwoTowerRetrieval estimator = estimator(layers, run.seed() == null ? config.seed() : run.seed(),
                dir.resolve("checkpoints").resolve(run.label()));
        DepthResult result;
        try {
            TwoTowerRetrievalModel model = estimator.fit(marked);
            result = new DepthResult(layers, run.seed(), model.validationCurve(), seconds(model.validationCurve()), null);
            checkSpec(dir, model.featureSpec());
            Path target = dir.resolve("models").resolve(run.label());
            model.write().overwrite().save(target.toString());
            LOG.info("Saved model {} to {}", label, target);
        } catch (TrainingStoppedException e) {
            // A numeric fault ends this depth, not the sweep: its curve so far is reported as failed.
            LOG.warn("{}: {}", label, e.getMessage());
            result = new DepthResult(layers, run.seed(), e.curve(), seconds(e.curve()), e.getMessage());
        }
        CurveFiles.write(dir, result, config.topKArray());
        return result;
    }

    private static double seconds(List<CurvePoint> curve) {
        return curve.isEmpty() ? 0 : curve.get(curve.size() - 1).trainSeconds();
    }

    /** The run folder's feature spec: written by the first depth, and every later one (or a resume) must match it. */
    private void checkSpec(Path dir, FeatureSpec spec) throws IOException {
        Path specFile = dir.resolve("feature-spec.json");
        if (Files.exists(specFile) && !FeatureSpec.read(specFile).toJson().equals(spec.toJson())) {
            throw new IllegalArgumentException("the data in " + config.data() + " no longer gives the feature spec"
                    + " this run started with (" + specFile + "); resume with the same data or start a new run");
        }
        spec.write(specFile);
    }

    private static Map<String, Double> accuracyMap(TopKAccuracy a) {
        Map<String, Double> m = new LinkedHashMap<>();
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
