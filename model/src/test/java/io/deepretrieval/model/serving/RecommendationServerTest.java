package io.deepretrieval.model.serving;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.deepretrieval.model.retrieval.HnswTopK;
import io.deepretrieval.model.towers.ModelConfig;
import io.deepretrieval.model.towers.TwoTowerModel;
import io.deepretrieval.model.train.SyntheticData;
import io.deepretrieval.model.train.TrainingStep;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The HTTP endpoint, started in-process on a free port over a small trained model, queried over loopback. */
class RecommendationServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    static ServingModel model;
    static RecommendationServer exact;
    static RecommendationServer hnsw;

    @BeforeAll
    static void trainAndServe() throws IOException {
        SyntheticData data = new SyntheticData(60, 96, 2000, 11);
        TwoTowerModel trained = new TwoTowerModel(ModelConfig.tutorial(new int[]{32, 16}, 4), data.spec);
        try (TrainingStep step = new TrainingStep(trained, data.corpus)) {
            for (int from = 0; from < 5 * 256; from += 256) {
                step.run(data.train.select(null, from, from + 256));
            }
        }
        model = ServingModel.of(trained, data.corpus, JSON.createObjectNode().put("test", "RecommendationServerTest"));
        InetSocketAddress loopback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        Candidates c = model.candidates();
        exact = new RecommendationServer(model, c, model.exactIndex(), loopback, 4, 50).start();
        HnswTopK graph = HnswTopK.build(c.embeddings(), c.size(), c.dim(), new HnswTopK.Params(16, 100, 100), null);
        hnsw = new RecommendationServer(model, c, graph, loopback, 2, 50).start();
    }

    @AfterAll
    static void stop() {
        exact.stop(0);
        hnsw.stop(0);
        model.close();
    }

    private static HttpResponse<String> get(RecommendationServer server, String pathAndQuery) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + pathAndQuery)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode ok(RecommendationServer server, String pathAndQuery) throws Exception {
        HttpResponse<String> r = get(server, pathAndQuery);
        assertEquals(200, r.statusCode(), pathAndQuery + ": " + r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        return JSON.readTree(r.body());
    }

    /** What ServingModel.recommend answers, as (itemId, label, score) rows. */
    private static List<String> expected(String user, long t, int k, Set<String> exclude) {
        return model.recommend(user, t, k, exclude).stream()
                .map(r -> r.itemId() + "|" + r.label() + "|" + r.score()).toList();
    }

    private static List<String> rows(JsonNode body) {
        List<String> out = new ArrayList<>();
        body.get("recommendations").forEach(n -> out.add(n.get("itemId").asText() + "|" + n.get("label").asText()
                + "|" + (float) n.get("score").asDouble()));
        return out;
    }

    /**
     * The same items and labels in the same order, and scores equal to float rounding: queries that share a forward
     * pass are one matrix product, whose rounding may differ from a single row's in the last bit.
     */
    static void assertSameAnswers(List<String> expected, List<String> actual) {
        assertEquals(expected.size(), actual.size(), expected + " against " + actual);
        for (int i = 0; i < expected.size(); i++) {
            String[] e = expected.get(i).split("\\|");
            String[] a = actual.get(i).split("\\|");
            assertEquals(e[0] + "|" + e[1], a[0] + "|" + a[1], "place " + i + ": " + expected + " against " + actual);
            double want = Double.parseDouble(e[2]);
            assertEquals(want, Double.parseDouble(a[2]), 1e-5 * Math.max(1, Math.abs(want)), "score at place " + i);
        }
    }

    @Test
    void recommendationsEqualServingModelRecommend() throws Exception {
        long latest = model.latestTimestamp();
        for (String user : List.of("1", "7", "30", "no-such-user")) {
            JsonNode body = ok(exact, "/recommend?user=" + user);
            assertEquals(RecommendationServer.DEFAULT_K, body.get("recommendations").size());
            assertEquals(expected(user, latest, 10, Set.of()), rows(body), "user " + user);
            assertEquals(!user.equals("no-such-user"), body.get("knownUser").asBoolean());
            assertEquals("exact", body.get("index").asText());
            JsonNode at = ok(exact, "/recommend?user=" + user + "&timestamp=883456789&k=25");
            assertEquals(expected(user, 883_456_789L, 25, Set.of()), rows(at));
            // On 96 candidates the graph's beam of 100 sees every candidate: the same movies, the same order.
            JsonNode approx = ok(hnsw, "/recommend?user=" + user + "&k=25");
            assertEquals(ids(expected(user, latest, 25, Set.of())), ids(rows(approx)));
        }
    }

    @Test
    void exclusionsAreHonoured() throws Exception {
        List<String> top = ids(expected("7", model.latestTimestamp(), 10, Set.of()));
        String leaveOut = top.get(0) + "," + top.get(2) + ",not-a-movie";
        for (RecommendationServer server : List.of(exact, hnsw)) {
            List<String> got = ids(rows(ok(server, "/recommend?user=7&k=10&exclude=" + leaveOut)));
            assertEquals(ids(expected("7", model.latestTimestamp(), 10, Set.of(top.get(0), top.get(2)))), got);
            assertFalse(got.contains(top.get(0)) || got.contains(top.get(2)));
        }
    }

    private static List<String> ids(List<String> rows) {
        return rows.stream().map(r -> r.substring(0, r.indexOf('|'))).toList();
    }

    @Test
    void badRequestsAre4xxNamingTheParameter() throws Exception {
        assertError("/recommend", 400, "user");
        assertError("/recommend?user=", 400, "user");
        assertError("/recommend?user=1&k=ten", 400, "k");
        assertError("/recommend?user=1&k=0", 400, "k");
        assertError("/recommend?user=1&k=51", 400, "k");
        assertError("/recommend?user=1&timestamp=yesterday", 400, "timestamp");
        assertError("/recommend?user=1&user=2", 400, "user");
        assertError("/recommend?user=1&limit=3", 400, "limit");
        assertError("/recommendations?user=1", 404, null);
        assertError("/recommend?user=1&history=5,6", 400, "history"); // this model's query tower reads no history
        HttpResponse<String> post = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + exact.port()
                + "/health")).POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(405, post.statusCode());
        assertEquals("GET", post.headers().firstValue("Allow").orElse(""));
        assertTrue(JSON.readTree(post.body()).get("error").asText().contains("POST"));
    }

    private static void assertError(String pathAndQuery, int status, String parameter) throws Exception {
        HttpResponse<String> r = get(exact, pathAndQuery);
        assertEquals(status, r.statusCode(), pathAndQuery + ": " + r.body());
        JsonNode body = JSON.readTree(r.body());
        assertTrue(body.hasNonNull("error"), r.body());
        if (parameter != null) {
            assertEquals(parameter, body.get("parameter").asText(), r.body());
            assertTrue(body.get("error").asText().contains(parameter), r.body());
        }
    }

    @Test
    void healthAndMetadata() throws Exception {
        assertEquals("ok", ok(exact, "/health").get("status").asText());
        JsonNode meta = ok(exact, "/metadata");
        assertEquals(96, meta.get("candidates").asInt());
        assertEquals("exact", meta.get("index").get("kind").asText());
        assertEquals("RecommendationServerTest", meta.get("model").get("test").asText());
        assertEquals(model.latestTimestamp(), meta.get("latestTimestamp").asLong());
        JsonNode h = ok(hnsw, "/metadata").get("index");
        assertEquals("hnsw", h.get("kind").asText());
        assertEquals(16, h.get("m").asInt());
    }

    /**
     * Liveness and readiness apart, and Prometheus metrics that count what this test sent: on a server of its own,
     * so that no other test's requests are in the counts.
     */
    @Test
    void healthRoutesAndPrometheusMetricsCountEveryRouteAndStatus() throws Exception {
        RecommendationServer server = new RecommendationServer(model, model.candidates(), model.exactIndex(),
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 2, 10).start();
        try {
            assertEquals("live", ok(server, "/health/live").get("status").asText());
            assertEquals("ready", ok(server, "/health/ready").get("status").asText());
            for (int i = 0; i < 3; i++) {
                ok(server, "/recommend?user=" + (i + 1));
            }
            assertEquals(400, get(server, "/recommend?user=1&k=0").statusCode());
            assertEquals(404, get(server, "/nowhere").statusCode());
            HttpResponse<String> scrape = get(server, "/metrics");
            assertEquals(200, scrape.statusCode());
            assertTrue(scrape.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
            String text = scrape.body();
            assertTrue(text.contains("http_server_requests_seconds_count{method=\"GET\",route=\"/recommend\",status=\"200\"} 3"), text);
            assertTrue(text.contains("http_server_requests_seconds_count{method=\"GET\",route=\"/recommend\",status=\"400\"} 1"), text);
            assertTrue(text.contains("http_server_requests_seconds_count{method=\"GET\",route=\"other\",status=\"404\"} 1"), text);
            assertTrue(text.contains("http_server_requests_seconds_bucket{method=\"GET\",route=\"/recommend\",status=\"200\",le="), "a latency histogram");
            assertTrue(text.contains("deep_retrieval_query_batch_rows_count "), "a forward-pass size histogram: " + text);
            assertTrue(text.contains("deep_retrieval_model_loaded{candidates=\"96\",dim=\"" + model.candidates().dim()
                    + "\",index=\"exact\"} 1.0"), text);
        } finally {
            server.stop(0);
        }
    }

    @Test
    void concurrentRequestsGetTheSameAnswersAsOneAtATime() throws Exception {
        List<String> users = List.of("1", "2", "7", "30", "60", "44", "13", "5");
        ExecutorService clients = Executors.newFixedThreadPool(8);
        try {
            List<Future<List<String>>> answers = new ArrayList<>();
            for (int i = 0; i < 80; i++) {
                String user = users.get(i % users.size());
                answers.add(clients.submit(() -> rows(ok(exact, "/recommend?user=" + user))));
            }
            for (int i = 0; i < answers.size(); i++) {
                String user = users.get(i % users.size());
                assertSameAnswers(expected(user, model.latestTimestamp(), 10, Set.of()), answers.get(i).get());
            }
        } finally {
            clients.shutdown();
        }
    }

    @Test
    void stopFirstSaysNotReadyThenClosesThePort() throws Exception {
        Candidates c = model.candidates();
        RecommendationServer server = new RecommendationServer(model, c, model.exactIndex(),
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1, 10).start();
        assertEquals("ok", ok(server, "/health").get("status").asText());
        Thread stopper = new Thread(() -> server.stop(2));
        stopper.start();
        // While it drains, the server still answers: live, but no longer ready.
        HttpResponse<String> ready = get(server, "/health/ready");
        for (int i = 0; i < 20 && ready.statusCode() != 503; i++) {
            Thread.sleep(50);
            ready = get(server, "/health/ready");
        }
        assertEquals(503, ready.statusCode(), ready.body());
        assertEquals(200, get(server, "/health/live").statusCode());
        stopper.join();
        assertThrows(IOException.class, () -> get(server, "/health"));
    }
}
