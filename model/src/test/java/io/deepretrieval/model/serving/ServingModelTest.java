package io.deepretrieval.model.serving;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.deepretrieval.model.features.CandidateCorpus;
import io.deepretrieval.model.features.FeatureSpec;
import io.deepretrieval.model.io.NdArrays;
import io.deepretrieval.model.towers.ModelConfig;
import io.deepretrieval.model.towers.Parameter;
import io.deepretrieval.model.towers.TwoTowerModel;
import io.deepretrieval.model.train.ModelState;
import io.deepretrieval.model.train.SyntheticData;
import io.deepretrieval.model.train.TrainingStep;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The serving model against the trained model it was built from: a model trained a few steps (so no parameter is
 * at its initial value), turned into a {@link ServingModel} (fresh towers holding the trained parameters) must
 * embed the same queries and candidates as the trained {@link TwoTowerModel} itself, and rank the same movies
 * first, from any thread.
 */
class ServingModelTest {
    private static final double TOLERANCE = 1e-6;
    /** The synthetic ratings' timestamps lie in [880,000,000, 890,000,000). */
    private static final long[] TIMESTAMPS = {
            880_000_000L, 883_456_789L, 887_000_000L, 889_999_999L,
            700_000_000L,    // before the first bucket boundary, normalised far below the training range
            1_000_000_000L}; // after the last one
    private static final String FINAL_CANDIDATE_BIAS = "candidate_dense1_bias";
    private static final String[] USERS = {"1", "2", "7", "30", "60", "no-such-user"};

    static SyntheticData data;
    static TwoTowerModel trained;
    static ServingModel served;

    @BeforeAll
    static void trainAndServe() {
        data = new SyntheticData(60, 96, 2000, 11);
        trained = new TwoTowerModel(ModelConfig.tutorial(new int[]{32, 16}, 4), data.spec);
        ModelState init = ModelState.of(trained);
        try (TrainingStep step = new TrainingStep(trained, data.corpus)) {
            for (int from = 0; from < 5 * 256; from += 256) {
                step.run(data.train.select(null, from, from + 256));
            }
        }
        // The last candidate bias gets no gradient: it adds q·b to every logit of a query's row, which the softmax
        // ignores (measured: it moves ~1e-6 in these steps). Give it values by hand so that carrying it is checked too.
        Parameter bias = trained.parameters().get(FINAL_CANDIDATE_BIAS);
        SplittableRandom rng = new SplittableRandom(3);
        for (int i = 0; i < bias.values().length; i++) {
            bias.values()[i] = (float) rng.nextDouble(-0.5, 0.5);
        }
        bias.valuesChanged();
        assertMovedFromInit(init, ModelState.of(trained));
        ObjectNode info = new ObjectMapper().createObjectNode().put("test", "ServingModelTest");
        served = ServingModel.of(trained, data.corpus, info);
    }

    @AfterAll
    static void close() {
        served.close();
    }

    /** Every parameter (dense kernels and biases, each embedding table) has left its initial values. */
    private static void assertMovedFromInit(ModelState init, ModelState now) {
        int offset = 0;
        for (Parameter p : trained.parameters().values()) {
            double moved = 0;
            for (int i = offset; i < offset + p.values().length; i++) {
                moved = Math.max(moved, Math.abs(now.values()[i] - init.values()[i]));
            }
            assertTrue(moved > 1e-3, p.name() + " moved only " + moved + " from its initial values");
            offset += p.values().length;
        }
    }

    /** The trained model's own query embedding: its table lookups and the training graph's query tower. */
    private static float[] trainedQuery(String user, long timestamp) {
        FeatureSpec spec = data.spec;
        return NdArrays.floats(trained.queryEmbeddings(spec.encodeQueries(1, (r, c) -> c == 0 ? user : (Object) timestamp)));
    }

    private static float[][] rows(INDArray matrix) {
        return rows(NdArrays.floats(matrix), (int) matrix.columns());
    }

    private static float[][] rows(float[] flat, int cols) {
        float[][] out = new float[flat.length / cols][];
        for (int r = 0; r < out.length; r++) {
            out[r] = Arrays.copyOfRange(flat, r * cols, (r + 1) * cols);
        }
        return out;
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }

    @Test
    void queryEmbeddingsOfTheServingModelEqualTheTrainedModels() {
        assertTrue(served.knowsUser("1") && served.knowsUser("60"), "users 1 and 60 should be in the vocabulary");
        assertFalse(served.knowsUser("no-such-user"));
        int outputDim = trained.config().outputDim();
        double worst = 0;
        float[] oov = null;
        for (String user : USERS) {
            for (long t : TIMESTAMPS) {
                float[] expected = trainedQuery(user, t);
                float[] actual = served.queryEmbedding(user, t);
                assertEquals(outputDim, actual.length);
                double diff = maxAbsDiff(expected, actual);
                assertTrue(diff <= TOLERANCE, "user " + user + " at " + t + ": query embeddings differ by " + diff);
                worst = Math.max(worst, diff);
                if (user.equals("no-such-user") && t == TIMESTAMPS[1]) {
                    oov = actual;
                }
            }
        }
        // The unknown user gets the out-of-vocabulary row, the same for any unknown id, and not user 1's.
        assertArrayEquals(oov, served.queryEmbedding("another-stranger", TIMESTAMPS[1]), 0f);
        assertTrue(maxAbsDiff(oov, served.queryEmbedding("1", TIMESTAMPS[1])) > 1e-3);
        // The timestamp matters (bucket and normalised value), also outside the training range.
        assertTrue(maxAbsDiff(served.queryEmbedding("1", TIMESTAMPS[4]), served.queryEmbedding("1", TIMESTAMPS[5])) > 1e-3);
        // A batch gives each row's single answer.
        float[] batch = served.queryEmbeddings(USERS.length, (r, c) -> c == 0 ? USERS[r] : (Object) TIMESTAMPS[1]);
        for (int r = 0; r < USERS.length; r++) {
            assertArrayEquals(served.queryEmbedding(USERS[r], TIMESTAMPS[1]),
                    Arrays.copyOfRange(batch, r * outputDim, (r + 1) * outputDim), 1e-6f, USERS[r]);
        }
        System.out.println("ServingModelTest: largest query embedding difference " + worst);
    }

    @Test
    void candidateEmbeddingsEqualTheTrainedModelsInCorpusOrder() {
        float[][] expected = rows(trained.candidateEmbeddings(data.corpus));
        Candidates c = served.candidates();
        assertEquals(data.corpus.size(), c.size());
        assertEquals(trained.config().outputDim(), c.dim());
        float[][] actual = rows(c.embeddings(), c.dim());
        for (int r = 0; r < expected.length; r++) {
            assertEquals(data.corpus.itemId(r), c.id(r));
            assertEquals(data.corpus.label(r), c.label(r));
            double diff = maxAbsDiff(expected[r], actual[r]);
            assertTrue(diff <= TOLERANCE, "candidate " + r + ": embedding differs by " + diff);
        }
    }

    /** Corpus records by the trained model's score for a query, best first (brute force). */
    private static List<Integer> bruteForceRanking(float[] query, float[][] candidates) {
        double[] score = new double[candidates.length];
        for (int r = 0; r < candidates.length; r++) {
            for (int k = 0; k < query.length; k++) {
                score[r] += (double) query[k] * candidates[r][k];
            }
        }
        List<Integer> ranking = new ArrayList<>(IntStream.range(0, candidates.length).boxed().toList());
        ranking.sort(Comparator.comparingDouble((Integer r) -> -score[r]));
        return ranking;
    }

    @Test
    void recommendGivesTheBruteForceTopKOfTheTrainedModel() {
        float[][] candidates = rows(trained.candidateEmbeddings(data.corpus));
        int k = 10;
        for (String user : USERS) {
            for (long t : new long[]{TIMESTAMPS[1], TIMESTAMPS[5], served.latestTimestamp()}) {
                float[] query = trainedQuery(user, t);
                List<Integer> ranking = bruteForceRanking(query, candidates);
                List<Recommendation> top = served.recommend(user, t, k, Set.of());
                assertEquals(ids(ranking.subList(0, k)), top.stream().map(Recommendation::itemId).toList(),
                        "user " + user + " at " + t);
                for (int i = 0; i < k; i++) {
                    int r = ranking.get(i);
                    double expected = 0;
                    for (int d = 0; d < query.length; d++) {
                        expected += (double) query[d] * candidates[r][d];
                    }
                    assertEquals(expected, top.get(i).score(), 1e-5 * Math.max(1, Math.abs(expected)));
                    assertEquals(data.corpus.label(r), top.get(i).label());
                }
                // Excluding the three best moves the next ones up.
                Set<String> exclude = new HashSet<>(ids(ranking.subList(0, 3)));
                assertEquals(ids(ranking.subList(3, 3 + k)),
                        served.recommend(user, t, k, exclude).stream().map(Recommendation::itemId).toList(),
                        "user " + user + " at " + t + " excluding " + exclude);
            }
        }
    }

    private static List<String> ids(List<Integer> records) {
        CandidateCorpus corpus = data.corpus;
        return records.stream().map(corpus::itemId).toList();
    }

    @Test
    void queriesFromManyThreadsGetTheAnswersOfOneThread() throws Exception {
        List<List<Recommendation>> one = new ArrayList<>();
        for (String user : USERS) {
            one.add(served.recommend(user, TIMESTAMPS[2], 10, Set.of()));
        }
        ExecutorService clients = Executors.newFixedThreadPool(6);
        try {
            List<Future<List<Recommendation>>> checks = new ArrayList<>();
            for (int i = 0; i < 60; i++) {
                int u = i % USERS.length;
                checks.add(clients.submit(() -> served.recommend(USERS[u], TIMESTAMPS[2], 10, Set.of())));
            }
            for (int i = 0; i < checks.size(); i++) {
                assertSameRanking(one.get(i % USERS.length), checks.get(i).get());
            }
        } finally {
            clients.shutdown();
        }
    }

    /**
     * The same items in the same order with scores equal to float rounding (queries sharing a forward pass are one
     * matrix product, whose rounding may differ from a single row's in the last bit).
     */
    private static void assertSameRanking(List<Recommendation> expected, List<Recommendation> actual) {
        assertEquals(expected.stream().map(Recommendation::itemId).toList(), actual.stream().map(Recommendation::itemId).toList());
        for (int i = 0; i < expected.size(); i++) {
            double want = expected.get(i).score();
            assertEquals(want, actual.get(i).score(), 1e-5 * Math.max(1, Math.abs(want)), "score at place " + i);
        }
    }

    /** Within float rounding of the embedding's own size (a batched product may round the last bit otherwise). */
    private static boolean closeEmbeddings(float[] expected, float[] actual) {
        double scale = 1;
        for (float v : expected) {
            scale = Math.max(scale, Math.abs(v));
        }
        return maxAbsDiff(expected, actual) <= TOLERANCE * scale;
    }

    @Test
    void concurrentQueriesShareForwardPassesAndGetTheTrainedModelsEmbeddings() throws Exception {
        List<Integer> passes = Collections.synchronizedList(new ArrayList<>());
        served.onBatch(passes::add);
        // A pass waits 20 ms for more queries, so the 16 clients' queries meet in a few passes.
        served.setBatching(64, 20_000, 0);
        ExecutorService clients = Executors.newFixedThreadPool(16);
        try {
            List<Future<Boolean>> close = new ArrayList<>();
            for (int i = 0; i < 96; i++) {
                String user = USERS[i % USERS.length];
                long time = TIMESTAMPS[i % TIMESTAMPS.length];
                close.add(clients.submit(() -> closeEmbeddings(trainedQuery(user, time), served.queryEmbedding(user, time))));
            }
            for (Future<Boolean> c : close) {
                assertTrue(c.get(), "batched against the trained model");
            }
        } finally {
            clients.shutdown();
            served.setBatching(64, 0, 0);
            served.onBatch(n -> { });
        }
        assertEquals(96, passes.stream().mapToInt(Integer::intValue).sum(), "every query in one pass: " + passes);
        assertTrue(passes.stream().anyMatch(n -> n > 1), "some passes shared by several queries: " + passes);
        assertTrue(passes.stream().allMatch(n -> n <= 64), "no pass above the row limit: " + passes);
    }

    @Test
    void aQueryNotEmbeddedWithinTheTimeoutFails() {
        // The pass waits 300 ms for company; the caller gives up after 50.
        served.setBatching(64, 300_000, 50);
        try {
            QueryTimeoutException e = assertThrows(QueryTimeoutException.class, () -> served.queryEmbedding("1", TIMESTAMPS[0]));
            assertEquals(50, e.timeoutMillis());
        } finally {
            served.setBatching(64, 0, 0);
        }
        assertTrue(closeEmbeddings(trainedQuery("1", TIMESTAMPS[0]), served.queryEmbedding("1", TIMESTAMPS[0])));
    }

    @Test
    void thePartsMakeTheSameModelAndAreChecked() {
        Candidates c = served.candidates();
        List<String> ids = IntStream.range(0, c.size()).mapToObj(c::id).toList();
        List<String> titles = IntStream.range(0, c.size()).mapToObj(c::label).toList();
        // A state with accumulators serves as well; the accumulators are not needed.
        try (ServingModel parts = ServingModel.of(trained.config(), trained.spec(), ModelState.of(trained), ids, titles,
                c.embeddings(), null)) {
            assertArrayEquals(served.queryEmbedding("7", TIMESTAMPS[0]), parts.queryEmbedding("7", TIMESTAMPS[0]), 0f);
            assertEquals(0, parts.info().size());
        }
        // Parameters of other towers are refused by name, before anything is served.
        TwoTowerModel other = new TwoTowerModel(ModelConfig.tutorial(new int[]{16}, 4), data.spec);
        IllegalArgumentException layout = assertThrows(IllegalArgumentException.class, () -> ServingModel.of(
                trained.config(), trained.spec(), ModelState.of(other), ids, titles, c.embeddings(), null));
        assertTrue(layout.getMessage().contains("the serving parameters"), layout.getMessage());
        IllegalArgumentException lengths = assertThrows(IllegalArgumentException.class, () -> ServingModel.of(
                trained.config(), trained.spec(), ModelState.of(trained), ids.subList(1, ids.size()), titles.subList(1, ids.size()),
                c.embeddings(), null));
        assertTrue(lengths.getMessage().contains("do not match"), lengths.getMessage());
    }

    @Test
    void theDefaultQueryTimeIsTheLastBucketBoundary() {
        double[] b = data.spec.timestampFeature().boundaries();
        assertEquals((long) b[b.length - 1], served.latestTimestamp());
        assertEquals(data.spec.toJson(), served.spec().toJson());
        assertEquals("ServingModelTest", served.info().get("test").asText());
    }
}
