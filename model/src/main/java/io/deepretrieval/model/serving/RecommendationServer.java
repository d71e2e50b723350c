package io.deepretrieval.model.serving;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.deepretrieval.model.retrieval.HnswTopK;
import io.deepretrieval.model.retrieval.TopK;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Recommendations over HTTP from a {@link ServingModel}: {@code GET /recommend} (query parameters),
 * {@code POST /recommend} (a JSON body that can also carry the query's side features), {@code /metadata}, JSON in
 * and out; {@code /health/live} (the process answers), {@code /health/ready} (the model and its index are loaded
 * and the server is not stopping: 503 otherwise; {@code /health}, kept from earlier versions, answers as ready does with
 * status {@code ok}), and {@code /metrics} in
 * Prometheus's text format (Micrometer: request count and latency histogram per route, method and status, and the
 * model's identity). Requests are not logged one by one; errors are. The JDK's own {@link HttpServer}: a handful of JSON routes need no
 * framework, and it takes a fixed thread pool and has a graceful {@code stop(delay)}.
 * Requests are answered on {@code threads} pool threads; the query tower runs on the model's one graph thread
 * (a SameDiff graph must not run concurrently), where the queries of requests that arrive together share one
 * forward pass ({@link ServingModel#setBatching}; the pass sizes are the metric
 * {@code deep_retrieval_query_batch_rows}), while the top-k searches, which are thread-safe, run on the pool
 * threads in parallel. A query the tower does not embed within the model's timeout is answered 503.
 */
public final class RecommendationServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RecommendationServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The routes; any other path is answered 404 and counted under the route {@code other}. */
    private static final List<String> ROUTES = List.of("/recommend", "/metadata", "/health", "/health/live",
            "/health/ready", "/metrics");
    /** The methods the metrics name; any other counts as {@code other}, so that clients cannot add labels. */
    private static final List<String> METHODS = List.of("GET", "POST", "HEAD", "PUT", "DELETE");
    static {
        // The JDK server writes a response's headers and body separately; with Nagle's algorithm on, the body waits
        // for the client's delayed ACK (~40 ms on Linux): measured 44 ms p50 at any load, 335 requests/s over 16
        // connections. Read once, when the JDK's server configuration loads, so it must be set before a server is.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
    }

    /** Default number of items a request gets. */
    public static final int DEFAULT_K = 10;

    private final AtomicReference<ServedVersion> served = new AtomicReference<>();
    private final int maxK;
    private final HttpServer server;
    private final ExecutorService pool;
    private final PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<String, Timer> timers = new ConcurrentHashMap<>();
    /** Queries per forward pass, recorded by every version served. */
    private final DistributionSummary batches;
    /** The served version's description gauge, replaced with it (its labels describe it). */
    private Gauge loadedGauge;
    private volatile boolean stopping;

    /**
     * @param candidates what to recommend from ({@code model.candidates()}, or a synthetic catalogue around it)
     * @param index      a top-k index over {@code candidates}' embeddings
     * @param address    where to listen (port 0: any free port, see {@link #port()})
     * @param threads    request threads
     * @param maxK       the largest k a request may ask for
     */
    public RecommendationServer(ServingModel model, Candidates candidates, TopK index, InetSocketAddress address,
                                int threads, int maxK) throws IOException {
        this(new ServedVersion(0, model, candidates, index), address, threads, maxK);
    }

    /**
     * A server of one model version, which {@link #swap} may replace while it serves.
     *
     * @param first   the version served first
     * @param address where to listen (port 0: any free port, see {@link #port()})
     * @param threads request threads
     * @param maxK    the largest k a request may ask for
     */
    public RecommendationServer(ServedVersion first, InetSocketAddress address, int threads, int maxK) throws IOException {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        if (maxK < 1) {
            throw new IllegalArgumentException("max k must be >= 1, got " + maxK);
        }
        this.maxK = maxK;
        this.pool = Executors.newFixedThreadPool(threads, daemon("http"));
        this.server = HttpServer.create(address, 128);
        this.server.setExecutor(pool);
        // One context for every path, so that unknown routes get a JSON 404 like every other error.
        this.server.createContext("/", this::handle);
        this.batches = DistributionSummary.builder("deep_retrieval_query_batch_rows")
                .description("queries per forward pass of the query tower").publishPercentileHistogram()
                .register(metrics);
        Gauge.builder("deep_retrieval_model_version", served, r -> r.get().version())
                .description("the version of the model served (0: a model from one folder)").register(metrics);
        install(first);
    }

    /** Makes {@code next} the served version and describes it in the metrics. */
    private synchronized ServedVersion install(ServedVersion next) {
        next.model().onBatch(batches::record);
        if (loadedGauge != null) {
            metrics.remove(loadedGauge);
        }
        loadedGauge = Gauge.builder("deep_retrieval_model_loaded", () -> 1).description("the model served (its labels say which)")
                .tags("index", next.index().kind(), "candidates", Integer.toString(next.candidates().size()),
                        "dim", Integer.toString(next.candidates().dim()))
                .register(metrics);
        return served.getAndSet(next);
    }

    /**
     * Serves {@code next} from now on: requests that start after this call use it, requests in flight finish on the
     * version they started with, which closes when the last of them ends. The caller has loaded and warmed
     * {@code next} (see {@link #warm}).
     */
    public void swap(ServedVersion next) {
        ServedVersion old = install(next);
        LOG.info("now serving version {} (was {})", next.version(), old.version());
        old.release();
    }

    /** The version served now. */
    public ServedVersion served() {
        return served.get();
    }

    /**
     * Runs one query through a version's tower and index, so that its first real request does not pay for the
     * graph's first run and the index's first search; a version that fails here must not be served.
     */
    public static void warm(ServedVersion v) {
        ServingModel m = v.model();
        float[] q = m.queryEmbedding("", m.latestTimestamp(), null, Map.of());
        v.candidates().recommend(q, Math.min(10, v.candidates().size()), Set.of(), v.index());
    }

    /** The served version with a hold taken for one request (a version closing meanwhile is skipped). */
    private ServedVersion acquire() {
        while (true) {
            ServedVersion v = served.get();
            if (v.acquire()) {
                return v;
            }
        }
    }

    private static ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, "serve-" + name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    public RecommendationServer start() {
        server.start();
        return this;
    }

    /** The port listened on (the one chosen when the address asked for port 0). */
    public int port() {
        return server.getAddress().getPort();
    }

    /**
     * Stops gracefully: first answers {@code /health/ready} with 503 for {@code delaySeconds} while still serving
     * (so that a load balancer stops sending), then stops accepting, lets exchanges in flight finish for up to
     * {@code delaySeconds} more, and frees the threads.
     */
    public void stop(int delaySeconds) {
        stopping = true;
        try {
            Thread.sleep(delaySeconds * 1000L);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        server.stop(delaySeconds);
        pool.shutdown();
        try {
            pool.awaitTermination(delaySeconds + 1L, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        stop(0);
    }

    /** A request the client got wrong: a 4xx status, a message, and the parameter at fault (or null). */
    static final class BadRequest extends RuntimeException {
        final int status;
        final String parameter;

        BadRequest(int status, String parameter, String message) {
            super(message);
            this.status = status;
            this.parameter = parameter;
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        long start = System.nanoTime();
        String path = exchange.getRequestURI().getPath();
        int status = 500;
        try {
            status = answer(exchange, path);
        } finally {
            String route = ROUTES.contains(path) ? path : "other";
            String method = METHODS.contains(exchange.getRequestMethod()) ? exchange.getRequestMethod() : "other";
            String code = Integer.toString(status);
            // One timer per (route, method, status), built once: the labels are bounded, and this runs per request.
            timers.computeIfAbsent(route + " " + method + " " + code, k -> Timer.builder("http_server_requests")
                            .description("requests answered, by route, method and status")
                            .tags("route", route, "method", method, "status", code)
                            .publishPercentileHistogram().register(metrics))
                    .record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        }
    }

    /** Answers one exchange and returns its status. */
    private int answer(HttpExchange exchange, String path) throws IOException {
        try (exchange) {
            ObjectNode body;
            try {
                if (!ROUTES.contains(path)) {
                    throw new BadRequest(404, null, "no route " + path + "; routes: GET /recommend, /metadata, "
                            + "/health/live, /health/ready, /metrics");
                }
                if (path.equals("/metrics") && "GET".equals(exchange.getRequestMethod())) {
                    byte[] text = metrics.scrape().getBytes(StandardCharsets.UTF_8);
                    exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
                    exchange.sendResponseHeaders(200, text.length);
                    try (OutputStream out = exchange.getResponseBody()) {
                        out.write(text);
                    }
                    return 200;
                }
                boolean post = "POST".equals(exchange.getRequestMethod()) && path.equals("/recommend");
                if (!"GET".equals(exchange.getRequestMethod()) && !post) {
                    exchange.getResponseHeaders().set("Allow", path.equals("/recommend") ? "GET, POST" : "GET");
                    throw new BadRequest(405, null, exchange.getRequestMethod() + " " + path + " is not allowed; use GET"
                            + (path.equals("/recommend") ? " or POST" : ""));
                }
                if ((path.equals("/health") || path.equals("/health/ready")) && stopping) {
                    send(exchange, 503, JSON.createObjectNode().put("status", "stopping"));
                    return 503;
                }
                body = switch (path) {
                    case "/recommend" -> recommend(post ? RecommendRequest.of(readJson(exchange))
                            : RecommendRequest.of(query(exchange.getRequestURI().getRawQuery())));
                    case "/health" -> JSON.createObjectNode().put("status", "ok");
                    case "/health/ready" -> JSON.createObjectNode().put("status", "ready");
                    case "/health/live" -> JSON.createObjectNode().put("status", "live");
                    default -> metadata();
                };
            } catch (BadRequest e) {
                ObjectNode error = JSON.createObjectNode().put("error", e.getMessage());
                if (e.parameter != null) {
                    error.put("parameter", e.parameter);
                }
                send(exchange, e.status, error);
                return e.status;
            } catch (RuntimeException e) {
                LOG.error("{} failed", exchange.getRequestURI(), e);
                send(exchange, 500, JSON.createObjectNode().put("error", "internal error: " + e));
                return 500;
            }
            send(exchange, 200, body);
            return 200;
        }
    }

    private static void send(HttpExchange exchange, int status, ObjectNode body) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        exchange.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    /** Query parameters, decoded; a repeated one is an error rather than a silent choice. */
    static Map<String, String> query(String raw) {
        Map<String, String> params = new HashMap<>();
        if (raw == null || raw.isEmpty()) {
            return params;
        }
        for (String pair : raw.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            if (params.put(key, value) != null) {
                throw new BadRequest(400, key, "parameter " + key + " is given twice");
            }
        }
        return params;
    }

    /** The largest request body read (a query with a long history and side features fits easily). */
    private static final int MAX_BODY = 1 << 20;

    private static JsonNode readJson(HttpExchange exchange) throws IOException {
        byte[] bytes = exchange.getRequestBody().readNBytes(MAX_BODY + 1);
        if (bytes.length > MAX_BODY) {
            throw new BadRequest(413, null, "the request body is larger than " + MAX_BODY + " bytes");
        }
        try {
            JsonNode node = JSON.readTree(bytes);
            if (node == null || !node.isObject()) {
                throw new BadRequest(400, null, "the request body must be a JSON object");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new BadRequest(400, null, "the request body is not JSON: " + e.getOriginalMessage());
        }
    }

    private ObjectNode recommend(RecommendRequest request) {
        ServedVersion v = acquire();
        try {
            return recommend(request, v.model(), v.candidates(), v.index()).put("version", v.version());
        } finally {
            v.release();
        }
    }

    private ObjectNode recommend(RecommendRequest request, ServingModel model, Candidates candidates, TopK index) {
        String user = request.user();
        if (user.isBlank() && request.history() == null) {
            throw new BadRequest(400, "user", "parameter user is required (a user id), unless a history is given");
        }
        if (request.history() != null && !model.readsHistory()) {
            throw new BadRequest(400, "history", "this model's query tower reads no history; leave history out");
        }
        long timestamp = request.timestamp() != null ? request.timestamp() : model.latestTimestamp();
        int k = DEFAULT_K;
        if (request.k() != null) {
            long v = request.k();
            if (v < 1 || v > maxK) {
                throw new BadRequest(400, "k", "parameter k must be in 1.." + maxK + ", got " + v);
            }
            k = (int) v;
        }
        List<String> history = request.history() != null ? request.history() : model.keptHistory(user);
        float[] query; // on the model's graph thread
        try {
            query = model.queryEmbedding(user, timestamp, history, request.features());
        } catch (IllegalArgumentException e) {
            throw new BadRequest(400, "features", e.getMessage());
        } catch (QueryTimeoutException e) {
            throw new BadRequest(503, null, e.getMessage() + "; retry later");
        }
        List<Recommendation> top = candidates.recommend(query, k, request.exclude(), index);
        ObjectNode out = JSON.createObjectNode().put("user", user).put("knownUser", model.knowsUser(user))
                .put("timestamp", timestamp).put("k", k).put("index", index.kind());
        if (model.readsHistory()) {
            out.put("historySource", request.history() != null ? "request" : history.isEmpty() ? "none" : "kept")
                    .put("historyLength", history.size());
        }
        ArrayNode list = out.putArray("recommendations");
        for (Recommendation r : top) {
            list.addObject().put("itemId", r.itemId()).put("label", r.label()).put("score", r.score());
        }
        return out;
    }

    static long parseLong(String value, String name) {
        try {
            return Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            throw new BadRequest(400, name, "parameter " + name + " must be a whole number, got '" + value + "'");
        }
    }

    private ObjectNode metadata() {
        ServedVersion v = acquire();
        try {
            return metadata(v.model(), v.candidates(), v.index()).put("version", v.version());
        } finally {
            v.release();
        }
    }

    private ObjectNode metadata(ServingModel model, Candidates candidates, TopK index) {
        ObjectNode out = JSON.createObjectNode();
        out.set("model", model.info());
        out.put("candidates", candidates.size()).put("embeddingDim", candidates.dim())
                .put("latestTimestamp", model.latestTimestamp()).put("maxK", maxK);
        ObjectNode idx = out.putObject("index").put("kind", index.kind());
        if (index instanceof HnswTopK h) {
            idx.put("m", h.params().m()).put("beamWidth", h.params().beamWidth()).put("efSearch", h.params().efSearch());
        }
        return out;
    }
}
