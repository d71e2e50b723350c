package io.deepretrieval.spark.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.deepretrieval.spark.config.ConfigException;
import io.deepretrieval.spark.config.SweepConfig;
import io.deepretrieval.spark.ingest.MalformedInputException;
import io.deepretrieval.spark.ingest.MovieLensDownloader;
import io.deepretrieval.spark.sweep.DepthSweep;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;

/** {@code sweep}: train every depth setting and write curves, summary and plot. */
@Command(name = "sweep", mixinStandardHelpOptions = true,
        description = "Train the two-tower model at each depth setting and write accuracy curves, a summary and a plot.")
final class SweepCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Logger LOG = LoggerFactory.getLogger(SweepCommand.class);
    static final Path DEFAULT_CONFIG = Path.of(System.getProperty("deep-retrieval.home", "."), "conf", "sweep.json");

    @Option(names = "--config", description = "JSON settings (default: conf/sweep.json when present, else the tutorial's defaults)")
    Path config;

    @Option(names = "--data", description = "MovieLens folder (u.data + u.item, ratings.dat + movies.dat, or ratings.csv +"
            + " movies.csv): a local path or any Hadoop URI such as hdfs://namenode/data/ml-1m (default: "
            + SweepConfig.DEFAULT_DATA + ", a local folder downloaded from GroupLens when missing)")
    String data;

    @Option(names = "--out", description = "parent folder of the results folder")
    String out;

    @Option(names = "--name", description = "results folder name (default: sweep-<date>-<time>)")
    String name;

    @Option(names = "--epochs", description = "epochs per depth")
    Integer epochs;

    @Option(names = "--layers", description = "a depth setting as comma-separated layer sizes, e.g. 64,32; repeat for several")
    List<String> layers;

    @Option(names = "--seed", description = "seed of the split, initialisation and shuffling")
    Long seed;

    @Option(names = "--batch-size", description = "training batch size (in-batch negatives)")
    Integer batchSize;

    @Option(names = "--master", description = "Spark master URL, e.g. local[*] (ignored under spark-submit, which sets it)")
    String master;

    @Option(names = "--workers", description = "0 trains in the driver JVM; N trains N replicas on Spark executors with parameter averaging")
    Integer workers;

    @Option(names = "--batch-size-per-worker", description = "each replica's minibatch (its in-batch negatives)")
    Integer batchSizePerWorker;

    @Option(names = "--averaging-frequency", description = "local steps between two parameter averagings")
    Integer averagingFrequency;

    @Option(names = "--step-threads", description = "threads a training step splits its batch over (0: every CPU core,"
            + " 1 on a GPU; with --workers, spark.task.cpus)")
    Integer stepThreads;

    @Option(names = "--seeds", description = "runs per depth with seeds seed, seed+1, ... (split fixed); reports mean ± sd")
    Integer seeds;

    @Option(names = "--no-baseline", description = "skip the ALS baseline (config key alsBaseline)")
    boolean noBaseline;

    @Option(names = "--resume", description = "continue the interrupted sweep in this .incomplete results folder, with its saved settings")
    Path resume;

    /** Where a missing default data folder is downloaded from (tests point it at a loopback server). */
    String downloadUrl = MovieLensDownloader.GROUPLENS_URL;

    /** What a relative data path is read against: the working directory (tests use a temporary folder). */
    Path workDir = Path.of("");

    @Override
    public Integer call() throws Exception {
        if (resume != null) {
            ObjectNode given = overrides();
            given.remove("master");
            if (config != null || name != null || layers != null || !given.isEmpty()) {
                throw new ConfigException("the command line", List.of("--resume continues with the settings saved in "
                        + resume.resolve("config.json") + "; only --master may be given with it"));
            }
            return finished(DepthSweep.resume(resume, master));
        }
        SweepConfig cfg = resolve();
        ensureDefaultData(cfg);
        Path dir = new DepthSweep(cfg).run(name != null ? name : DepthSweep.defaultRunName());
        return finished(dir);
    }

    /** Exit code 0 when every depth completed, 3 when some stopped on a numeric fault (the summary says which). */
    private static int finished(Path dir) throws java.io.IOException {
        System.out.println("Results written to " + dir.toAbsolutePath());
        boolean allCompleted = true;
        for (com.fasterxml.jackson.databind.JsonNode row : JSON.readTree(dir.resolve("summary.json").toFile())) {
            allCompleted &= "completed".equals(row.get("status").asText());
        }
        return allCompleted ? 0 : 3;
    }

    /** The settings given as flags (but --layers), under their config keys; null flags are left out. */
    private ObjectNode overrides() {
        Map<String, Object> flags = new LinkedHashMap<>();
        flags.put("data", data);
        flags.put("out", out);
        flags.put("epochs", epochs);
        flags.put("seed", seed);
        flags.put("batchSize", batchSize);
        flags.put("master", master);
        flags.put("workers", workers);
        flags.put("batchSizePerWorker", batchSizePerWorker);
        flags.put("averagingFrequency", averagingFrequency);
        flags.put("seeds", seeds);
        flags.put("stepThreads", stepThreads);
        flags.put("alsBaseline", noBaseline ? false : null);
        flags.values().removeIf(Objects::isNull);
        return JSON.valueToTree(flags);
    }

    /**
     * When the sweep reads the default data folder ({@value SweepConfig#DEFAULT_DATA}: no {@code --data}, and the
     * config file names no other) and that folder does not exist, downloads MovieLens 100k into it exactly as the
     * {@code download} command does (MD5-checked). Any other data folder is left to the reader, which reports a
     * missing one. A failed download stops with the commands that fix it (exit code 2, as for a missing folder).
     *
     * @return the data folder the sweep will read: the local default folder, or any other folder (a path or Hadoop
     *     URI) as given, which is never touched here
     */
    String ensureDefaultData(SweepConfig cfg) {
        if (data != null || !SweepConfig.DEFAULT_DATA.equals(cfg.data())) {
            return cfg.data();
        }
        Path dir = workDir.resolve(cfg.data());
        if (Files.exists(dir)) {
            return dir.toString();
        }
        LOG.info("Data folder {} does not exist: downloading MovieLens 100k from {} (checked against its published MD5)",
                dir.toAbsolutePath(), downloadUrl);
        try {
            new MovieLensDownloader(downloadUrl).ensure(dir);
        } catch (java.io.IOException e) {
            throw new MalformedInputException("data folder " + dir.toAbsolutePath() + " does not exist and downloading"
                    + " MovieLens 100k into it failed: " + e.getMessage() + ". Run 'bin/deep-retrieval download' once"
                    + " the machine is online, or point the sweep at a copy: 'bin/deep-retrieval sweep --data DIR'.");
        }
        LOG.info("MovieLens 100k is in {}", dir.toAbsolutePath());
        return dir.toString();
    }

    /** The config file (or defaults) with the command-line overrides applied and validated together. */
    SweepConfig resolve() {
        SweepConfig base;
        if (config != null) {
            if (!Files.isRegularFile(config)) {
                throw new ConfigException(null, List.of("--config: file " + config + " does not exist"));
            }
            base = SweepConfig.load(config);
        } else {
            base = Files.isRegularFile(DEFAULT_CONFIG) ? SweepConfig.load(DEFAULT_CONFIG) : SweepConfig.defaults();
        }
        ObjectNode o = overrides();
        List<String> problems = new ArrayList<>();
        if (layers != null) {
            ArrayNode all = o.putArray("layerSizes");
            for (String setting : layers) {
                ArrayNode one = all.addArray();
                for (String size : setting.split(",")) {
                    try {
                        one.add(Integer.parseInt(size.strip()));
                    } catch (NumberFormatException e) {
                        problems.add("--layers " + setting + ": '" + size.strip() + "' is not a layer size (a positive integer)");
                    }
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new ConfigException("the command line", problems);
        }
        return base.with(o, "the command line");
    }
}
