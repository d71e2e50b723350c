package io.deepretrieval.model.serving;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.deepretrieval.model.features.CandidateCorpus;
import io.deepretrieval.model.features.FeatureSpec;
import io.deepretrieval.model.features.Interactions;
import io.deepretrieval.model.io.NdArrays;
import io.deepretrieval.model.towers.ModelConfig;
import io.deepretrieval.model.towers.Parameter;
import io.deepretrieval.model.towers.TwoTowerModel;
import io.deepretrieval.model.train.ModelState;
import io.deepretrieval.model.train.SyntheticData;
import io.deepretrieval.model.train.TrainingStep;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The saved serving graphs against the training graph they were built from: a model trained a few steps (so no
 * parameter is at its initial value), saved and loaded back must embed the same queries and candidates as the
 * trained {@link TwoTowerModel} itself (its lookups in Java plus the training graph's towers), and rank the same
 * movies first.
 */
class SavedModelTest {
    private static final double TOLERANCE = 1e-6;
    /** The synthetic ratings' timestamps lie in [880,000,000, 890,000,000). */
    private static final long[] TIMESTAMPS = {
            880_000_000L, 883_456_789L, 887_000_000L, 889_999_999L,
            700_000_000L,    // before the first bucket boundary, normalised far below the training range
            1_000_000_000L}; // after the last one
    private static final String FINAL_CANDIDATE_BIAS = "candidate_dense1_bias";
    private static final String[] USERS = {"1", "2", "7", "30", "60", "no-such-user"};

    @TempDir
    static Path dir;
    static SyntheticData data;
    static TwoTowerModel trained;
    static SavedModel loaded;

    @BeforeAll
    static void trainSaveAndLoad() throws IOException {
        data = new SyntheticData(60, 96, 2000, 11);
        trained = new TwoTowerModel(ModelConfig.tutorial(new int[]{32, 16}, 4), data.spec);
        ModelState init = ModelState.of(trained);
        try (TrainingStep step = new TrainingStep(trained, data.corpus)) {
            for (int from = 0; from < 5 * 256; from += 256) {
                step.run(data.train.select(null, from, from + 256));
            }
        }
        // The last candidate bias gets no gradient: it adds q·b to every logit of a query's row, which the softmax
        // ignores (measured: it moves ~1e-6 in these steps). Give it values by hand so that saving it is checked too.
        Parameter bias = trained.parameters().get(FINAL_CANDIDATE_BIAS);
        java.util.SplittableRandom rng = new java.util.SplittableRandom(3);
        for (int i = 0; i < bias.values().length; i++) {
            bias.values()[i] = (float) rng.nextDouble(-0.5, 0.5);
        }
        bias.valuesChanged();
        assertMovedFromInit(init, ModelState.of(trained));
        ObjectNode info = new ObjectMapper().createObjectNode().put("test", "SavedModelTest");
        SavedModel.save(dir.resolve("model"), trained, data.spec, data.corpus, info);
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(dir.resolve("model"))) {
            // Every file is written to a temporary sibling, fsynced and renamed: none may be left behind.
            org.junit.jupiter.api.Assertions.assertEquals(java.util.List.of(), files.map(f -> f.getFileName().toString())
                    .filter(n -> n.endsWith(".tmp")).toList());
        }
        loaded = SavedModel.load(dir.resolve("model"));
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
        float[] flat = NdArrays.floats(matrix);
        int cols = (int) matrix.columns();
        float[][] out = new float[(int) matrix.rows()][];
        for (int r = 0; r < out.length; r++) {
            out[r] = java.util.Arrays.copyOfRange(flat, r * cols, (r + 1) * cols);
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
    void queryEmbeddingsOfTheLoadedModelEqualTheTrainingGraphs() {
        assertTrue(loaded.knowsUser("1") && loaded.knowsUser("60"), "users 1 and 60 should be in the vocabulary");
        assertFalse(loaded.knowsUser("no-such-user"));
        int outputDim = trained.config().outputDim();
        double worst = 0;
        float[] oov = null;
        for (String user : USERS) {
            for (long t : TIMESTAMPS) {
                float[] expected = trainedQuery(user, t);
                float[] actual = NdArrays.floats(loaded.queryEmbedding(user, t));
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
        assertArrayEquals(oov, NdArrays.floats(loaded.queryEmbedding("another-stranger", TIMESTAMPS[1])), 0f);
        assertTrue(maxAbsDiff(oov, NdArrays.floats(loaded.queryEmbedding("1", TIMESTAMPS[1]))) > 1e-3);
        // The timestamp matters (bucket and normalised value), also outside the training range.
        assertTrue(maxAbsDiff(NdArrays.floats(loaded.queryEmbedding("1", TIMESTAMPS[4])),
                NdArrays.floats(loaded.queryEmbedding("1", TIMESTAMPS[5]))) > 1e-3);
        System.out.println("SavedModelTest: largest query embedding difference " + worst);
    }

    @Test
    void savedCandidateEmbeddingsAndTheSavedCandidateGraphEqualTheTrainingGraphs() throws IOException {
        float[][] expected = rows(trained.candidateEmbeddings(data.corpus));
        assertEquals(data.corpus.size(), expected.length);

        // What recommend() ranks with: the embeddings precomputed into candidates.json, in corpus order.
        JsonNode doc = new ObjectMapper().readTree(dir.resolve("model").resolve(SavedModel.CANDIDATES).toFile());
        float[][] saved = new ObjectMapper().treeToValue(doc.get("embeddings"), float[][].class);
        assertEquals(expected.length, saved.length);
        // The graph saved next to them, loaded back and run over the whole corpus again.
        SameDiff candidateGraph = SameDiff.load(dir.resolve("model").resolve(SavedModel.CANDIDATE_TOWER).toFile(), false);
        float[][] rerun = rows(SavedModel.candidateEmbeddings(candidateGraph, data.spec, data.corpus));
        assertEquals(expected.length, rerun.length);

        double worstSaved = 0;
        double worstRerun = 0;
        for (int r = 0; r < expected.length; r++) {
            assertEquals(data.corpus.movieId(r), doc.get("movieIds").get(r).asText());
            assertEquals(data.corpus.title(r), doc.get("titles").get(r).asText());
            double a = maxAbsDiff(expected[r], saved[r]);
            double b = maxAbsDiff(expected[r], rerun[r]);
            assertTrue(a <= TOLERANCE, "candidate " + r + ": saved embedding differs by " + a);
            assertTrue(b <= TOLERANCE, "candidate " + r + ": reloaded candidate graph differs by " + b);
            worstSaved = Math.max(worstSaved, a);
            worstRerun = Math.max(worstRerun, b);
        }
        System.out.println("SavedModelTest: largest candidate embedding difference " + worstSaved
                + " (candidates.json), " + worstRerun + " (reloaded candidate_tower.sdz)");
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
            for (long t : new long[]{TIMESTAMPS[1], TIMESTAMPS[5], loaded.latestTimestamp()}) {
                float[] query = trainedQuery(user, t);
                List<Integer> ranking = bruteForceRanking(query, candidates);
                List<SavedModel.Recommendation> top = loaded.recommend(user, t, k, Set.of());
                assertEquals(ids(ranking.subList(0, k)), top.stream().map(SavedModel.Recommendation::movieId).toList(),
                        "user " + user + " at " + t);
                for (int i = 0; i < k; i++) {
                    int r = ranking.get(i);
                    double expected = 0;
                    for (int d = 0; d < query.length; d++) {
                        expected += (double) query[d] * candidates[r][d];
                    }
                    assertEquals(expected, top.get(i).score(), 1e-5 * Math.max(1, Math.abs(expected)));
                    assertEquals(data.corpus.title(r), top.get(i).title());
                }
                // Excluding the three best moves the next ones up.
                Set<String> exclude = new HashSet<>(ids(ranking.subList(0, 3)));
                assertEquals(ids(ranking.subList(3, 3 + k)),
                        loaded.recommend(user, t, k, exclude).stream().map(SavedModel.Recommendation::movieId).toList(),
                        "user " + user + " at " + t + " excluding " + exclude);
            }
        }
    }

    private static List<String> ids(List<Integer> records) {
        CandidateCorpus corpus = data.corpus;
        return records.stream().map(corpus::movieId).toList();
    }

    @Test
    void theDefaultQueryTimeIsTheLastBucketBoundary() {
        double[] b = data.spec.timestampFeature().boundaries();
        assertEquals((long) b[b.length - 1], loaded.latestTimestamp());
        assertEquals(data.spec.toJson(), loaded.spec().toJson());
        assertEquals("SavedModelTest", loaded.info().get("test").asText());
    }
}
