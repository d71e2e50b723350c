package io.deepretrieval.model.serving;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.deepretrieval.model.features.FeatureColumns;
import io.deepretrieval.model.io.NdArrays;
import io.deepretrieval.model.towers.ModelConfig;
import io.deepretrieval.model.towers.TwoTowerModel;
import io.deepretrieval.model.train.SequenceData;
import io.deepretrieval.model.train.TrainingStep;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A model whose query tower reads the user's recent items, served over HTTP: a user the model never saw is answered
 * from the history in the request (GET {@code history=} or a POST body), exactly as a brute-force score of that
 * history's query embedding computed by the trained towers themselves; a known user without one is answered from
 * the history kept for them.
 */
class HistoryServingTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    static SequenceData data;
    static TwoTowerModel trained;
    static ServingModel model;
    static RecommendationServer server;

    @BeforeAll
    static void trainAndServe() throws Exception {
        data = new SequenceData(80, 40, 8, 3, true, true, 9);
        trained = new TwoTowerModel(new ModelConfig(16, new int[]{16}, 0.1, 0.1, 1e-7, 3), data.spec);
        try (TrainingStep step = new TrainingStep(trained, data.corpus)) {
            for (int epoch = 0; epoch < 3; epoch++) {
                for (int from = 0; from + 128 <= data.train.size(); from += 128) {
                    step.run(data.train.select(null, from, from + 128));
                }
            }
        }
        ServingModel plain = ServingModel.of(trained, data.corpus, null);
        List<String> ids = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        for (int r = 0; r < data.corpus.size(); r++) {
            ids.add(data.corpus.itemId(r));
            labels.add(data.corpus.label(r));
        }
        model = ServingModel.of(plain.config(), plain.spec(), io.deepretrieval.model.train.ModelState.of(trained), ids,
                labels, plain.candidates().embeddings(), null, Map.of("u1", List.of("i3", "i4", "i5")));
        plain.close();
        server = new RecommendationServer(model, model.candidates(), model.exactIndex(),
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 2, 20).start();
    }

    @AfterAll
    static void stop() {
        server.stop(0);
        model.close();
    }

    /** The oracle: the trained towers' embedding of (user, history), dotted with every item, best first. */
    private static List<String> bruteForce(String user, List<String> history, int k) {
        FeatureColumns row = data.spec.encodeQueries(1, (r, c) -> c == 0 ? user : history);
        float[] q = NdArrays.floats(trained.queryEmbeddings(row));
        float[] items = model.candidates().embeddings();
        int dim = q.length;
        List<Map.Entry<String, Float>> scored = new ArrayList<>();
        for (int i = 0; i < data.corpus.size(); i++) {
            float dot = 0;
            for (int d = 0; d < dim; d++) {
                dot += q[d] * items[i * dim + d];
            }
            scored.add(Map.entry(data.corpus.itemId(i), dot));
        }
        scored.sort(Map.Entry.<String, Float>comparingByValue(Comparator.reverseOrder()));
        return scored.subList(0, k).stream().map(Map.Entry::getKey).toList();
    }

    private static List<String> ids(JsonNode body) {
        List<String> out = new ArrayList<>();
        body.get("recommendations").forEach(n -> out.add(n.get("itemId").asText()));
        return out;
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpRequest.Builder at(String pathAndQuery) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + pathAndQuery));
    }

    @Test
    void anUnknownUserIsAnsweredFromTheHistoryInTheRequest() throws Exception {
        HttpResponse<String> r = send(at("/recommend?user=stranger&history=i7,i8,i9&k=10"));
        assertEquals(200, r.statusCode(), r.body());
        JsonNode body = JSON.readTree(r.body());
        assertFalse(body.get("knownUser").asBoolean());
        assertEquals("request", body.get("historySource").asText());
        assertEquals(3, body.get("historyLength").asInt());
        assertEquals(bruteForce("stranger", List.of("i7", "i8", "i9"), 10), ids(body));
        // Without a user at all, the history alone is the query.
        JsonNode anonymous = JSON.readTree(send(at("/recommend?history=i7,i8,i9&k=10")).body());
        assertEquals(bruteForce("", List.of("i7", "i8", "i9"), 10), ids(anonymous));
    }

    @Test
    void aPostBodyCarriesTheHistoryAndAKnownUserWithoutOneReadsTheKeptHistory() throws Exception {
        HttpResponse<String> post = send(at("/recommend").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"user\": \"stranger\", \"history\": [\"i7\", \"i8\", \"i9\"],"
                        + " \"k\": 10, \"exclude\": [\"i0\"]}")));
        assertEquals(200, post.statusCode(), post.body());
        List<String> expected = new ArrayList<>(bruteForce("stranger", List.of("i7", "i8", "i9"), 11));
        expected.remove("i0");
        assertEquals(expected.subList(0, 10), ids(JSON.readTree(post.body())));
        JsonNode kept = JSON.readTree(send(at("/recommend?user=u1&k=5")).body());
        assertEquals("kept", kept.get("historySource").asText());
        assertEquals(bruteForce("u1", List.of("i3", "i4", "i5"), 5), ids(kept));
        JsonNode none = JSON.readTree(send(at("/recommend?user=u2&k=5")).body());
        assertEquals("none", none.get("historySource").asText());
        assertEquals(bruteForce("u2", List.of(), 5), ids(none));
    }

    @Test
    void badBodiesAre400NamingTheField() throws Exception {
        for (String[] c : new String[][]{{"{\"user\": \"u1\", \"hist\": []}", "hist"},
                {"{\"history\": \"i1,i2\"}", "history"}, {"{\"history\": [\"i1\"], \"k\": 2.5}", "k"},
                {"{\"history\": [\"i1\"], \"features\": [1]}", "features"}, {"[1, 2]", null}, {"{nope", null}}) {
            HttpResponse<String> r = send(at("/recommend").POST(HttpRequest.BodyPublishers.ofString(c[0])));
            assertEquals(400, r.statusCode(), c[0] + ": " + r.body());
            JsonNode body = JSON.readTree(r.body());
            assertTrue(body.hasNonNull("error"), r.body());
            if (c[1] != null) {
                assertEquals(c[1], body.get("parameter").asText(), r.body());
            }
        }
    }
}
