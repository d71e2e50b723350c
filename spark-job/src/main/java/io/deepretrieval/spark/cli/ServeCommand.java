package io.deepretrieval.spark.cli;

import io.deepretrieval.model.retrieval.HnswTopK;
import io.deepretrieval.model.retrieval.TopK;
import io.deepretrieval.model.serving.Candidates;
import io.deepretrieval.model.serving.RecommendationServer;
import io.deepretrieval.model.serving.ServedVersion;
import io.deepretrieval.model.serving.ServingModel;
import io.deepretrieval.spark.SparkSessions;
import io.deepretrieval.spark.ml.SavedModels;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/**
 * {@code serve}: an HTTP endpoint over a saved model (exact or HNSW top-k); Spark only reads the model, then stops.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve recommendations over HTTP from a saved model (a TwoTowerRetrievalModel folder, e.g. from"
                + " 'train --out', or a PipelineModel folder holding one): "
                + "GET /recommend?user=ID[&timestamp=S][&k=N][&exclude=id1,id2], /health, /metadata.")
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--model", description = "saved model folder, or PipelineModel folder holding one")
    Path model;

    @Option(names = "--model-root", description = "folder of numbered model versions (1/, 2/, ...): the newest that"
            + " loads is served, and a newer one appearing later is loaded, warmed and swapped in while serving;"
            + " excludes --model")
    Path modelRoot;

    @Option(names = "--poll-seconds", defaultValue = "10", description = "with --model-root: seconds between looks"
            + " for a newer version (default: ${DEFAULT-VALUE})")
    int pollSeconds;

    @Option(names = "--port", defaultValue = "8080", description = "port (0: any free one; default: ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "address to bind (default: ${DEFAULT-VALUE})")
    String host;

    @Option(names = "--index", defaultValue = "exact", description = "exact or hnsw (default: ${DEFAULT-VALUE})")
    String index;

    @Option(names = "--hnsw-m", defaultValue = "16", description = "HNSW neighbours per node (default: ${DEFAULT-VALUE})")
    int hnswM;

    @Option(names = "--hnsw-beam-width", defaultValue = "100", description = "HNSW efConstruction (default: ${DEFAULT-VALUE})")
    int beamWidth;

    @Option(names = "--hnsw-ef-search", defaultValue = "100", description = "HNSW least search beam (default: ${DEFAULT-VALUE})")
    int efSearch;

    @Option(names = "--index-dir", description = "where the HNSW graph is saved and reopened (default: a folder in the model's)")
    Path indexDir;

    @Option(names = "--threads", defaultValue = "32", description = "request threads: at least the concurrent"
            + " requests expected, since each waits for its forward pass (default: ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--batch-rows", defaultValue = "64", description = "most queries one forward pass of the query"
            + " tower takes; requests that wait together share a pass (default: ${DEFAULT-VALUE})")
    int batchRows;

    @Option(names = "--batch-wait-us", defaultValue = "0", description = "microseconds a pass waits after its first"
            + " query for more (0: it takes those already waiting) (default: ${DEFAULT-VALUE})")
    long batchWaitMicros;

    @Option(names = "--request-timeout-ms", defaultValue = "1000", description = "a request whose query is not"
            + " embedded within this many milliseconds is answered 503 (0: no limit) (default: ${DEFAULT-VALUE})")
    long requestTimeoutMillis;

    @Option(names = "--max-k", defaultValue = "1000", description = "largest k a request may ask for (default: ${DEFAULT-VALUE})")
    int maxK;

    @Option(names = "--synthetic-candidates", description = "serve N fabricated candidates around the model's real ones"
            + " (load tests at catalogue sizes MovieLens lacks; not real movies)")
    Integer synthetic;

    @Option(names = "--shutdown-delay", defaultValue = "2", description = "on stop: seconds of answering /health/ready with 503 while still serving, then as long again for requests in flight (default: ${DEFAULT-VALUE})")
    int shutdownDelay;

    /** Completed with the bound port once the server answers: a caller in this JVM (a test) learns it here. */
    final CompletableFuture<Integer> listening = new CompletableFuture<>();

    /** What {@link #stop()} does: nothing until the server has started. */
    private volatile Runnable stop = () -> { };

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--port must be in 0..65535, got " + port);
        }
        if (!index.equals("exact") && !index.equals("hnsw")) {
            throw new IllegalArgumentException("--index must be exact or hnsw, got " + index);
        }
        if (shutdownDelay < 0) {
            throw new IllegalArgumentException("--shutdown-delay must be >= 0, got " + shutdownDelay);
        }
        hnswParams(hnswM, beamWidth, efSearch);
        OptionChecks.atLeast("--threads", threads, 1);
        OptionChecks.atLeast("--batch-rows", batchRows, 1);
        OptionChecks.atLeast("--batch-wait-us", batchWaitMicros, 0);
        OptionChecks.atLeast("--request-timeout-ms", requestTimeoutMillis, 0);
        OptionChecks.atLeast("--max-k", maxK, 1);
        OptionChecks.atLeast("--synthetic-candidates", synthetic, 1);
        OptionChecks.atLeast("--poll-seconds", pollSeconds, 1);
        if ((model == null) == (modelRoot == null)) {
            throw new IllegalArgumentException("give one of --model (a model folder) and --model-root (a folder of"
                    + " numbered versions)");
        }
        ServedVersion first = modelRoot == null ? loadVersion(0, model) : newestVersion(0);
        if (first == null) {
            throw new IllegalArgumentException("--model-root " + modelRoot + ": no numbered version folder loads");
        }
        RecommendationServer server = new RecommendationServer(first, new InetSocketAddress(host, port), threads, maxK);
        ScheduledExecutorService poller = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "serve-model-poll");
            t.setDaemon(true);
            return t;
        });
        if (modelRoot != null) {
            poller.scheduleWithFixedDelay(() -> pollOnce(server), pollSeconds, pollSeconds, TimeUnit.SECONDS);
        }
        CountDownLatch stopped = new CountDownLatch(1);
        AtomicBoolean stopping = new AtomicBoolean();
        Runnable shutdown = () -> {
            if (stopping.compareAndSet(false, true)) {
                System.err.println("stopping (up to " + shutdownDelay + " s for requests in flight)");
                poller.shutdownNow();
                server.stop(shutdownDelay);
                server.served().release();
                stopped.countDown();
            }
        };
        Thread hook = new Thread(shutdown, "serve-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        stop = () -> {
            try {
                Runtime.getRuntime().removeShutdownHook(hook); // stopped from this JVM: the hook has nothing left to do
            } catch (IllegalStateException shuttingDown) {
                // the hook runs (or ran) already; shutdown below is then a no-op
            }
            shutdown.run();
        };
        server.start();
        System.err.printf(Locale.ROOT, "serving %s on http://%s:%d (%s%s index, %d threads); Ctrl-C or SIGTERM stops%n",
                modelRoot != null ? modelRoot : model, host, server.port(),
                modelRoot != null ? "version " + first.version() + ", " : "", first.index().kind(), threads);
        listening.complete(server.port());
        stopped.await();
        return 0;
    }

    /** Stops a server this instance started as SIGTERM does (readiness off, requests in flight answered); idempotent. */
    void stop() {
        stop.run();
    }

    /** Versions that failed to load, by folder and its modification time: not retried until the folder changes. */
    private final Map<Path, Long> refused = new ConcurrentHashMap<>();

    /** Loads and swaps in a version newer than the served one, if one appeared; a broken one is refused and logged. */
    private void pollOnce(RecommendationServer server) {
        try {
            long current = server.served().version();
            ServedVersion next = newestVersion(current);
            if (next != null) {
                server.swap(next);
                System.err.printf(Locale.ROOT, "serving %s version %d (was %d)%n", modelRoot, next.version(), current);
            }
        } catch (RuntimeException | IOException e) {
            System.err.println("error: looking for a new version in " + modelRoot + ": " + e.getMessage());
        }
    }

    /**
     * The newest numbered version in {@code --model-root} above {@code above} that loads, loaded and warmed (older
     * ones are tried when a newer one fails); null when none does. Failures are logged and remembered.
     */
    private ServedVersion newestVersion(long above) throws IOException {
        List<Long> versions;
        try (Stream<Path> children = Files.list(modelRoot)) {
            versions = children.filter(Files::isDirectory).map(p -> p.getFileName().toString())
                    .filter(n -> n.matches("[0-9]{1,18}")).map(Long::parseLong)
                    .filter(v -> v > above).sorted(Comparator.reverseOrder()).toList();
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("--model-root " + modelRoot + " does not exist");
        }
        for (long v : versions) {
            Path dir = modelRoot.resolve(Long.toString(v));
            long changed = Files.getLastModifiedTime(dir).toMillis();
            if (refused.getOrDefault(dir, Long.MIN_VALUE) == changed) {
                continue;
            }
            try {
                return loadVersion(v, dir);
            } catch (RuntimeException | IOException e) {
                refused.put(dir, changed);
                System.err.println("error: version " + v + " (" + dir + ") refused: " + e.getMessage()
                        + (above > 0 ? "; version " + above + " keeps serving" : ""));
            }
        }
        return null;
    }

    /** One model folder as a served version: loaded, its index built or opened, and warmed with one query. */
    private ServedVersion loadVersion(long version, Path dir) throws IOException {
        long t0 = System.nanoTime();
        ServingModel saved = load(dir);
        try {
            Candidates candidates = synthetic == null ? saved.candidates() : saved.candidates().synthetic(synthetic, 0.5, 42);
            System.err.printf(Locale.ROOT, "model loaded in %.1f s: %d candidates of width %d%s%n",
                    (System.nanoTime() - t0) / 1e9, candidates.size(), candidates.dim(),
                    synthetic == null ? "" : " (synthetic, around " + saved.candidates().size() + " real ones)");
            TopK topK = index.equals("exact") ? candidates.exactIndex() : hnsw(dir, candidates);
            saved.setBatching(batchRows, batchWaitMicros, requestTimeoutMillis);
            ServedVersion v = new ServedVersion(version, saved, candidates, topK);
            RecommendationServer.warm(v);
            return v;
        } catch (RuntimeException | IOException e) {
            saved.close();
            throw e;
        }
    }

    /**
     * The model saved in {@code model} (a model folder or a PipelineModel folder holding one, see
     * {@link SavedModels#load}), read once with a local Spark session, which is stopped before anything is served
     * (unless someone else started it), as a Spark-free {@link ServingModel}.
     */
    static ServingModel load(Path model) throws IOException {
        boolean own = SparkSession.getDefaultSession().isEmpty();
        SparkSession spark = SparkSessions.create("local[1]", "deep-retrieval model loading");
        try {
            return SavedModels.load(spark, model.toString()).serving();
        } finally {
            if (own) {
                spark.stop(); // serving needs no Spark; a session someone else started stays theirs
            }
        }
    }

    /** The saved graph when it matches these candidates and parameters, else one built now and saved. */
    private TopK hnsw(Path dir, Candidates candidates) throws IOException {
        return savedHnsw(dir, synthetic, indexDir, candidates, hnswParams(hnswM, beamWidth, efSearch));
    }

    /** The HNSW parameters of --hnsw-m, --hnsw-beam-width and --hnsw-ef-search, an error naming the bad one. */
    static HnswTopK.Params hnswParams(int m, int beamWidth, int efSearch) {
        HnswTopK.Params d = HnswTopK.Params.defaults();
        OptionChecks.checked("--hnsw-m", m, () -> new HnswTopK.Params(m, d.beamWidth(), d.efSearch()));
        OptionChecks.checked("--hnsw-beam-width", beamWidth, () -> new HnswTopK.Params(d.m(), beamWidth, d.efSearch()));
        OptionChecks.checked("--hnsw-ef-search", efSearch, () -> new HnswTopK.Params(d.m(), d.beamWidth(), efSearch));
        return new HnswTopK.Params(m, beamWidth, efSearch);
    }

    /**
     * The HNSW graph of {@code candidates} kept in {@code indexDir} (null: a folder in the model's, named by the
     * catalogue and the build parameters), reopened when it matches them, else built now and saved there.
     */
    static HnswTopK savedHnsw(Path model, Integer synthetic, Path indexDir, Candidates candidates, HnswTopK.Params params)
            throws IOException {
        Path dir = indexDir != null ? indexDir : model.resolve(String.format(Locale.ROOT, "hnsw-%s-m%d-bw%d",
                synthetic == null ? "candidates" : "synthetic" + synthetic, params.m(), params.beamWidth()));
        long t0 = System.nanoTime();
        HnswTopK opened = HnswTopK.open(dir, params, HnswTopK.fingerprint(candidates.embeddings()));
        if (opened != null) {
            System.err.printf(Locale.ROOT, "HNSW graph opened from %s in %.1f s%n", dir, (System.nanoTime() - t0) / 1e9);
            return opened;
        }
        if (Files.isDirectory(dir) && !isEmpty(dir)) {
            throw new IOException("HNSW index folder " + dir + " holds a graph for other candidates or parameters;"
                    + " delete it or pass another --index-dir");
        }
        System.err.println("building the HNSW graph of " + candidates.size() + " candidates into " + dir + " ...");
        HnswTopK built = HnswTopK.build(candidates.embeddings(), candidates.size(), candidates.dim(), params, dir);
        System.err.printf(Locale.ROOT, "HNSW graph built and saved in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        return built;
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (var entries = Files.list(dir)) {
            return entries.findAny().isEmpty();
        }
    }
}
