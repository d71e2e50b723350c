package io.deepretrieval.model.serving;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.deepretrieval.model.towers.ModelConfig;
import io.deepretrieval.model.towers.TwoTowerModel;
import io.deepretrieval.model.train.SyntheticData;
import io.deepretrieval.model.train.TrainingStep;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A new model version replaces the served one while clients keep asking: no request fails, each answer is wholly
 * one version's, requests after the swap get the new version's answers, and the old version closes once its
 * requests are done.
 */
class HotSwapTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private static ServingModel trained(SyntheticData data, int steps, long seed) {
        TwoTowerModel towers = new TwoTowerModel(ModelConfig.tutorial(new int[]{16}, seed), data.spec);
        try (TrainingStep step = new TrainingStep(towers, data.corpus)) {
            for (int from = 0; from < steps * 256; from += 256) {
                step.run(data.train.select(null, from, from + 256));
            }
        }
        return ServingModel.of(towers, data.corpus, null);
    }

    private static JsonNode get(int port, String pathAndQuery) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + pathAndQuery))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), pathAndQuery + ": " + r.body());
        return JSON.readTree(r.body());
    }

    private static List<String> items(JsonNode body) {
        List<String> out = new ArrayList<>();
        body.get("recommendations").forEach(n -> out.add(n.get("itemId").asText()));
        return out;
    }

    private static List<String> items(ServingModel model, String user) {
        return model.recommend(user, model.latestTimestamp(), 10, Set.of()).stream().map(Recommendation::itemId).toList();
    }

    /** Waits until the clients have made {@code n} requests in all. */
    private static void awaitRequests(AtomicInteger requests, int n) throws InterruptedException {
        while (requests.get() < n) {
            Thread.sleep(10);
        }
    }

    @Test
    void aNewVersionReplacesTheServedOneUnderLoadWithoutAFailedRequest() throws Exception {
        SyntheticData data = new SyntheticData(60, 96, 2000, 11);
        ServingModel first = trained(data, 1, 1);
        ServingModel second = trained(data, 5, 2);
        List<String> users = List.of("1", "2", "7", "30", "44");
        // Each version's answers, computed before the first version is closed.
        Map<String, List<String>> ofFirst = new HashMap<>();
        Map<String, List<String>> ofSecond = new HashMap<>();
        users.forEach(u -> ofFirst.put(u, items(first, u)));
        users.forEach(u -> ofSecond.put(u, items(second, u)));
        assertFalse(ofFirst.equals(ofSecond), "the versions differ");
        ServedVersion one = new ServedVersion(1, first, first.candidates(), first.exactIndex());
        RecommendationServer server = new RecommendationServer(one,
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8, 50).start();
        ExecutorService clients = Executors.newFixedThreadPool(6);
        AtomicBoolean go = new AtomicBoolean(true);
        AtomicInteger requests = new AtomicInteger();
        try {
            List<Future<Integer>> answered = new ArrayList<>();
            for (int c = 0; c < 6; c++) {
                int client = c;
                answered.add(clients.submit(() -> {
                    int n = 0;
                    while (go.get()) {
                        String user = users.get((client + n) % users.size());
                        JsonNode body = get(server.port(), "/recommend?user=" + user);
                        long version = body.get("version").asLong();
                        // Each answer is wholly one version's.
                        assertEquals((version == 1 ? ofFirst : ofSecond).get(user), items(body), "version " + version);
                        n++;
                        requests.incrementAndGet();
                    }
                    return n;
                }));
            }
            awaitRequests(requests, 30);
            ServedVersion two = new ServedVersion(2, second, second.candidates(), second.exactIndex());
            RecommendationServer.warm(two);
            server.swap(two);
            awaitRequests(requests, requests.get() + 30);
            go.set(false);
            int total = 0;
            for (Future<Integer> f : answered) {
                total += f.get(); // a failed request (non-200, wrong answer) fails its client here
            }
            assertTrue(total >= 60, "clients kept asking across the swap: " + total);
            assertTrue(one.closed(), "the old version closed once its requests were done");
            for (String user : users) {
                JsonNode body = get(server.port(), "/recommend?user=" + user);
                assertEquals(2, body.get("version").asLong());
                assertEquals(ofSecond.get(user), items(body));
            }
            assertEquals(2, get(server.port(), "/metadata").get("version").asLong());
        } finally {
            go.set(false);
            clients.shutdown();
            server.stop(0);
            server.served().release();
        }
    }
}
