package io.deepretrieval.spark.cli;

import io.deepretrieval.model.io.Futures;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.deepretrieval.model.io.ResidentMemory;
import io.deepretrieval.model.retrieval.BruteForceTopK;
import io.deepretrieval.model.retrieval.HnswTopK;
import io.deepretrieval.model.retrieval.Recall;
import io.deepretrieval.model.retrieval.TopK;
import io.deepretrieval.model.serving.Candidates;
import io.deepretrieval.model.serving.ServingModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * {@code bench-topk}: exact (brute force) against HNSW top-k on synthetic clustered candidates: recall of HNSW
 * against the exact answer, build time, memory and query latency (single queries: p50/p99; a batch: throughput).
 * One JSON line per figure on stdout, a table on stderr.
 */
@Command(name = "bench-topk", mixinStandardHelpOptions = true,
        description = "Exact vs HNSW top-k on synthetic clustered vectors: recall, build time, memory, latency.")
final class BenchTopKCommand implements Callable<Integer> {
    @Option(names = "--sizes", split = ",", defaultValue = "10000,100000,1000000", description = "candidate counts (default: ${DEFAULT-VALUE})")
    int[] sizes;

    @Option(names = "--dim", defaultValue = "32", description = "(default: ${DEFAULT-VALUE})")
    int dim;

    @Option(names = "--per-cluster", defaultValue = "20", description = "synthetic vectors per cluster centre, so that density"
            + " stays the same at every size (default: ${DEFAULT-VALUE})")
    int perCluster;

    private int clusters;

    @Option(names = "--spread", defaultValue = "0.2", description = "noise around a centre, in units of the centres' spread (default: ${DEFAULT-VALUE})")
    double spread;

    @Option(names = "--queries", defaultValue = "500", description = "queries timed one at a time, and the batch (default: ${DEFAULT-VALUE})")
    int queries;

    @Option(names = "--k", defaultValue = "100", description = "(default: ${DEFAULT-VALUE})")
    int k;

    @Option(names = "--hnsw-m", defaultValue = "16", description = "(default: ${DEFAULT-VALUE})")
    int hnswM;

    @Option(names = "--hnsw-beam-width", defaultValue = "100", description = "(default: ${DEFAULT-VALUE})")
    int beamWidth;

    @Option(names = "--hnsw-ef-search", split = ",", defaultValue = "100,200", description = "beams to time (default: ${DEFAULT-VALUE})")
    int[] efSearch;

    @Option(names = "--threads", description = "threads for the HNSW batch (default: the number of cores)")
    Integer threads;

    @Option(names = "--model", description = "instead of synthetic vectors: a saved model's candidates (a model or"
            + " PipelineModel folder, as serve takes; or, with"
            + " --synthetic-candidates, the catalogue 'serve' fabricates around them) and its users' query embeddings;"
            + " the HNSW graph is the one 'serve --index hnsw' keeps in the model folder (built there when missing)")
    Path model;

    @Option(names = "--synthetic-candidates", description = "with --model: as serve --synthetic-candidates")
    Integer synthetic;

    @Spec
    CommandSpec spec;

    private final ObjectMapper json = new ObjectMapper();
    private final List<String> table = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        checkOptions();
        try (BruteForceTopK warm = new BruteForceTopK(new float[dim], 1, dim)) {
            warm.search(new float[dim], 1, 1); // loads ND4J's native backend before anything is timed
        }
        int batchThreads = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        if (model != null) {
            return benchModel(batchThreads);
        }
        table.add("| candidates | index | build s | heap MB | RSS +MB | p50 ms | p99 ms | batch q/s | recall@10 | recall@100 |");
        table.add("|---|---|---|---|---|---|---|---|---|---|");
        for (int m : sizes) {
            clusters = Math.max(1, m / perCluster);
            float[] c = clustered(m, 1);
            float[] q = clustered(queries, 2);
            String dataset = "clustered-" + m + "x" + dim;
            Memory before = Memory.now();
            long t0 = System.nanoTime();
            TopK.Hits[] truth;
            try (BruteForceTopK exact = new BruteForceTopK(c, m, dim)) {
                double build = (System.nanoTime() - t0) / 1e9;
                truth = exact.search(q, queries, k);
                Memory after = Memory.now();
                double[] lat = singleLatencies(exact, q, 0);
                double qps = batchThroughput(() -> exact.search(q, queries, k));
                record(dataset, "exact", build, before, after, lat, qps, Double.NaN, Double.NaN);
            }
            Path dir = Files.createTempDirectory("bench-topk-");
            before = Memory.now();
            t0 = System.nanoTime();
            try (HnswTopK hnsw = HnswTopK.build(c, m, dim, new HnswTopK.Params(hnswM, beamWidth, efSearch[0]), dir.resolve("hnsw"))) {
                double build = (System.nanoTime() - t0) / 1e9;
                emit(dataset, "hnsw", "index_on_disk_mb", treeBytes(dir) / 1048576.0, "MB");
                for (int ef : efSearch) {
                    TopK.Hits[] approx = hnsw.search(q, queries, k, null, ef);
                    Memory after = Memory.now();
                    double[] lat = singleLatencies(hnsw, q, ef);
                    double qps = batchThroughput(() -> parallelSearch(hnsw, q, ef, batchThreads));
                    record(dataset, "hnsw ef " + ef, build, before, after, lat, qps,
                            Recall.at(10, truth, approx), Recall.at(100, truth, approx));
                }
            } finally {
                deleteTree(dir);
            }
        }
        System.err.println();
        System.err.printf(Locale.ROOT, "dim %d, %d vectors per cluster, spread %.2f, %d queries, k %d, HNSW m %d beamWidth %d, batch threads %d%n",
                dim, perCluster, spread, queries, k, hnswM, beamWidth, batchThreads);
        table.forEach(System.err::println);
        return 0;
    }

    /** Every option's range, and --model against the options of the synthetic vectors it replaces. */
    private void checkOptions() {
        OptionChecks.excludes(spec, "--model", "its catalogue and users' queries replace the synthetic vectors",
                "--sizes", "--dim", "--per-cluster", "--spread");
        OptionChecks.requires(spec, "--synthetic-candidates", "--model");
        for (int size : sizes) {
            OptionChecks.atLeast("--sizes", size, 1);
        }
        OptionChecks.atLeast("--dim", dim, 1);
        OptionChecks.atLeast("--per-cluster", perCluster, 1);
        OptionChecks.nonNegative("--spread", spread);
        OptionChecks.atLeast("--queries", queries, 1);
        OptionChecks.atLeast("--k", k, 1);
        for (int ef : efSearch) {
            ServeCommand.hnswParams(hnswM, beamWidth, ef);
        }
        OptionChecks.atLeast("--threads", threads, 1);
        OptionChecks.atLeast("--synthetic-candidates", synthetic, 1);
    }

    /** The saved model's catalogue against its users' queries (the first --queries users, at the latest time). */
    private int benchModel(int batchThreads) throws Exception {
        try (ServingModel saved = ServeCommand.load(model)) {
            return benchModel(saved, batchThreads);
        }
    }

    private int benchModel(ServingModel saved, int batchThreads) throws Exception {
        Candidates c = synthetic == null ? saved.candidates()
                : saved.candidates().synthetic(synthetic, 0.5, 42); // the catalogue serve fabricates
        dim = c.dim();
        if (saved.spec().userFeature() == null) {
            throw new IllegalArgumentException("--model " + model + ": its query tower reads no user id, so it has no"
                    + " users to take queries from");
        }
        List<String> users = saved.spec().userFeature().vocabulary().stream().filter(u -> !u.isEmpty()).limit(queries).toList();
        queries = users.size();
        float[] q = new float[queries * dim];
        for (int i = 0; i < queries; i++) {
            System.arraycopy(saved.queryEmbedding(users.get(i), saved.latestTimestamp()), 0, q, i * dim, dim);
        }
        int m = c.size();
        String dataset = (synthetic == null ? "model-" : "synthetic-around-model-") + m + "x" + dim;
        table.add("| candidates | index | build or open s | heap MB | RSS +MB | p50 ms | p99 ms | batch q/s | recall@10 | recall@100 |");
        table.add("|---|---|---|---|---|---|---|---|---|---|");
        Memory before = Memory.now();
        long t0 = System.nanoTime();
        TopK.Hits[] truth;
        try (BruteForceTopK exact = c.exactIndex()) {
            double build = (System.nanoTime() - t0) / 1e9;
            truth = exact.search(q, queries, k);
            double[] lat = singleLatencies(exact, q, 0);
            double qps = batchThroughput(() -> exact.search(q, queries, k));
            record(dataset, "exact", build, before, Memory.now(), lat, qps, Double.NaN, Double.NaN);
        }
        before = Memory.now();
        t0 = System.nanoTime();
        try (HnswTopK hnsw = ServeCommand.savedHnsw(model, synthetic, null, c, new HnswTopK.Params(hnswM, beamWidth, efSearch[0]))) {
            double build = (System.nanoTime() - t0) / 1e9;
            for (int ef : efSearch) {
                TopK.Hits[] approx = hnsw.search(q, queries, k, null, ef);
                double[] lat = singleLatencies(hnsw, q, ef);
                double qps = batchThroughput(() -> parallelSearch(hnsw, q, ef, batchThreads));
                record(dataset, "hnsw ef " + ef, build, before, Memory.now(), lat, qps,
                        Recall.at(10, truth, approx), Recall.at(100, truth, approx));
            }
        }
        System.err.println();
        System.err.printf(Locale.ROOT, "%s, %d users' queries, k %d, HNSW m %d beamWidth %d, batch threads %d%n",
                model, queries, k, hnswM, beamWidth, batchThreads);
        table.forEach(System.err::println);
        return 0;
    }

    /** Heap in use after a GC, and resident memory. */
    record Memory(long heap, long rss) {
        static Memory now() {
            System.gc();
            Runtime rt = Runtime.getRuntime();
            return new Memory(rt.totalMemory() - rt.freeMemory(), ResidentMemory.bytes());
        }
    }

    private float[] clustered(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(11); // queries and candidates share the centres
        float[] centres = new float[clusters * dim];
        for (int i = 0; i < centres.length; i++) {
            centres[i] = (float) gaussian(rng);
        }
        SplittableRandom points = new SplittableRandom(seed * 1_000_003L);
        float[] out = new float[Math.multiplyExact(n, dim)];
        for (int r = 0; r < n; r++) {
            int c = points.nextInt(clusters);
            double scale = 0.5 + points.nextDouble(); // norms vary: maximum inner product, not cosine
            for (int d = 0; d < dim; d++) {
                out[r * dim + d] = (float) (scale * (centres[c * dim + d] + spread * gaussian(points)));
            }
        }
        return out;
    }

    private static double gaussian(SplittableRandom rng) {
        return Math.sqrt(-2 * Math.log(1 - rng.nextDouble())) * Math.cos(2 * Math.PI * rng.nextDouble());
    }

    /** p50 and p99 of single-query searches in ms, after a warm-up pass over a tenth of the queries. */
    private double[] singleLatencies(TopK index, float[] q, int ef) {
        int warm = Math.max(1, queries / 10);
        double[] ms = new double[queries];
        for (int pass = 0; pass < 2; pass++) {
            for (int i = 0; i < (pass == 0 ? warm : queries); i++) {
                float[] one = Arrays.copyOfRange(q, i * dim, (i + 1) * dim);
                long t0 = System.nanoTime();
                if (index instanceof HnswTopK h) {
                    h.search(one, 1, k, null, ef);
                } else {
                    index.search(one, 1, k);
                }
                if (pass == 1) {
                    ms[i] = (System.nanoTime() - t0) / 1e6;
                }
            }
        }
        Arrays.sort(ms);
        return new double[]{ms[(int) (0.50 * (queries - 1))], ms[(int) Math.ceil(0.99 * (queries - 1))]};
    }

    private double batchThroughput(Runnable batch) {
        batch.run(); // warm
        long t0 = System.nanoTime();
        batch.run();
        return queries / ((System.nanoTime() - t0) / 1e9);
    }

    /** The batch split over threads: HNSW answers one query at a time, so a batch is parallel single searches. */
    private void parallelSearch(HnswTopK hnsw, float[] q, int ef, int threads) {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> parts = new ArrayList<>();
            int per = (queries + threads - 1) / threads;
            for (int from = 0; from < queries; from += per) {
                int a = from;
                int b = Math.min(queries, from + per);
                parts.add(pool.submit(() -> hnsw.search(Arrays.copyOfRange(q, a * dim, b * dim), b - a, k, null, ef)));
            }
            for (Future<?> f : parts) {
                Futures.join(f);
            }
        } finally {
            pool.shutdown();
        }
    }

    private void record(String dataset, String index, double build, Memory before, Memory after, double[] lat,
                        double qps, double r10, double r100) throws Exception {
        double heapMb = (after.heap() - before.heap()) / 1048576.0;
        double rssMb = (after.rss() - before.rss()) / 1048576.0;
        emit(dataset, index, "build_seconds", build, "s");
        emit(dataset, index, "heap_used_delta_mb", heapMb, "MB");
        emit(dataset, index, "rss_delta_mb", rssMb, "MB");
        emit(dataset, index, "single_query_p50_ms", lat[0], "ms");
        emit(dataset, index, "single_query_p99_ms", lat[1], "ms");
        emit(dataset, index, "batch_queries_per_second", qps, "queries/s");
        if (!Double.isNaN(r100)) {
            emit(dataset, index, "recall_at_10", r10, "");
            emit(dataset, index, "recall_at_100", r100, "");
        }
        String row = String.format(Locale.ROOT, "| %,d | %s | %.2f | %.0f | %.0f | %.3f | %.3f | %,.0f | %s | %s |",
                Integer.parseInt(dataset.replaceAll("^\\D*(\\d+)x.*$", "$1")), index, build, heapMb, rssMb, lat[0], lat[1], qps,
                Double.isNaN(r10) ? "1 (exact)" : String.format(Locale.ROOT, "%.3f", r10),
                Double.isNaN(r100) ? "1 (exact)" : String.format(Locale.ROOT, "%.3f", r100));
        table.add(row);
        System.err.println(row); // as it comes, so that a run cut short keeps its rows
    }

    private void emit(String dataset, String index, String metric, double value, String unit) throws Exception {
        System.out.println(json.writeValueAsString(json.createObjectNode().put("bench", "topk").put("dataset", dataset)
                .put("index", index).put("k", k).put("metric", metric).put("value", value).put("unit", unit)));
    }

    private static long treeBytes(Path dir) throws java.io.IOException {
        try (var walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    private static void deleteTree(Path dir) throws java.io.IOException {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
