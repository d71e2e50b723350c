package io.deepretrieval.model.train;

import io.deepretrieval.model.features.Interactions;
import io.deepretrieval.model.towers.ModelConfig;
import io.deepretrieval.model.towers.Parameter;
import io.deepretrieval.model.towers.TwoTowerModel;
import io.deepretrieval.model.compat.SameDiffSessions;
import org.junit.jupiter.api.Test;

import java.util.List;
import org.nd4j.autodiff.samediff.SameDiff;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A step split over threads computes the same loss, gradients and updates as one that runs the batch whole. */
class TrainingStepTest {
    private final SyntheticData data = new SyntheticData(30, 60, 400, 9);

    private TwoTowerModel model() {
        return new TwoTowerModel(new ModelConfig(8, new int[]{16, 8}, 0.1, 0.1, 1e-7, 5), data.spec);
    }

    /** Every parameter's pending gradient, copied. */
    private static Map<String, float[]> gradients(TwoTowerModel model) {
        Map<String, float[]> out = new LinkedHashMap<>();
        model.parameters().forEach((name, p) -> out.put(name, p.gradient().clone()));
        return out;
    }

    private static void assertClose(Map<String, float[]> expected, Map<String, float[]> actual, double tolerance) {
        int nonZero = 0;
        for (Map.Entry<String, float[]> e : expected.entrySet()) {
            float[] a = actual.get(e.getKey());
            for (int i = 0; i < a.length; i++) {
                assertEquals(e.getValue()[i], a[i], tolerance * (1 + Math.abs(e.getValue()[i])), e.getKey() + "[" + i + "]");
                nonZero += e.getValue()[i] != 0 ? 1 : 0;
            }
        }
        assertNotEquals(0, nonZero, "all gradients were zero");
    }

    @Test
    void slicedBatchHasTheWholeBatchsLossAndGradients() {
        Interactions batch = data.train.select(null, 0, 101);  // odd size: uneven slices
        TwoTowerModel whole = model();
        double wholeLoss;
        try (TrainingStep step = new TrainingStep(whole, data.corpus)) {
            wholeLoss = step.computeGradients(batch);
        }
        for (int threads : new int[]{2, 3}) {
            TwoTowerModel sliced = model();
            try (TrainingStep step = new TrainingStep(sliced, data.corpus, threads)) {
                assertEquals(threads, step.threads());
                assertEquals(wholeLoss, step.computeGradients(batch), 1e-4 * wholeLoss, threads + " threads");
            }
            assertClose(gradients(whole), gradients(sliced), 1e-4);
        }
    }

    @Test
    void slicedTrainingFollowsTheWholeBatchTrajectory() {
        // Updates reach every graph copy: after several steps the copies still agree with the single graph.
        TwoTowerModel whole = model();
        TwoTowerModel sliced = model();
        try (TrainingStep one = new TrainingStep(whole, data.corpus);
             TrainingStep two = new TrainingStep(sliced, data.corpus, 2)) {
            for (int from = 0; from + 64 <= data.train.size() && from < 64 * 5; from += 64) {
                Interactions batch = data.train.select(null, from, from + 64);
                double a = one.run(batch);
                double b = two.run(batch);
                assertEquals(a, b, 1e-4 * a, "loss of the batch at row " + from);
            }
        }
        for (Map.Entry<String, Parameter> e : whole.parameters().entrySet()) {
            float[] expected = e.getValue().values();
            float[] actual = sliced.parameters().get(e.getKey()).values();
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], actual[i], 1e-4, e.getKey() + "[" + i + "]");
            }
        }
    }

    @Test
    void batchSmallerThanTheThreadsRunsInFewerSlices() {
        TwoTowerModel whole = model();
        TwoTowerModel sliced = model();
        Interactions three = data.train.select(null, 0, 3);
        try (TrainingStep a = new TrainingStep(whole, data.corpus);
             TrainingStep b = new TrainingStep(sliced, data.corpus, 4)) {
            assertEquals(a.computeGradients(three), b.computeGradients(three), 1e-6);
        }
        assertClose(gradients(whole), gradients(sliced), 1e-6);
    }

    @Test
    void garbageCollectionForgetsTheSessionsReleasedArrayIds() {
        // SameDiff M2.1 never clears these sets: without this they grow by ~50 ids per step and graph.
        try (TrainingStep step = new TrainingStep(model(), data.corpus, 2)) {
            for (int i = 0; i < 3; i++) {
                step.run(data.train.select(null, 0, 64));
            }
            for (SameDiff sd : step.gradientFunctions()) {
                assertTrue(SameDiffSessions.releasedArrayIds(sd) > 0, "ids after 3 steps");
            }
            step.collectGarbage();
            for (SameDiff sd : step.gradientFunctions()) {
                assertEquals(0, SameDiffSessions.releasedArrayIds(sd));
            }
            List<Integer> sessions = step.gradientFunctions().stream().map(SameDiffSessions::sessions).toList();
            for (int i = 0; i < 5; i++) {
                step.run(data.train.select(null, 0, 64));  // and the sessions still work
            }
            assertEquals(sessions, step.gradientFunctions().stream().map(SameDiffSessions::sessions).toList(),
                    "the slices run on the same threads, so no session is added");
        }
    }

    @Test
    void rejectsNoThreads() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new TrainingStep(model(), data.corpus, 0));
        assertEquals("step threads must be >= 1, got 0", e.getMessage());
    }
}
