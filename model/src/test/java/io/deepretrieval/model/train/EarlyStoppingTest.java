package io.deepretrieval.model.train;

import io.deepretrieval.model.metrics.FactorizedTopK;
import io.deepretrieval.model.metrics.TopKAccuracy;
import io.deepretrieval.model.towers.ModelConfig;
import io.deepretrieval.model.towers.TwoTowerModel;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EarlyStoppingTest {
    private final SyntheticData data = new SyntheticData(80, 120, 3000, 11);
    private final FactorizedTopK metric = new FactorizedTopK(10, 20);

    private static CurvePoint point(int epoch, double top10) {
        return new CurvePoint(epoch, 1.0, new TopKAccuracy(new int[]{10, 20}, new double[]{top10, top10}), epoch);
    }

    @Test
    void stopsAfterPatienceEvaluationsWithoutAStrictlyBetterScore() {
        EarlyStopping s = new EarlyStopping(2, 10, data.test, data.corpus, metric);
        ModelState state = new ModelState(new ParameterLayout(List.of(new ParameterLayout.Entry("w", new long[]{1}))),
                new float[]{1}, new float[]{2});
        // 0.30 at epoch 2 is the best; the tie at epoch 4 is no improvement (Keras's min_delta 0 is strict).
        s.resume(List.of(point(1, 0.1), point(2, 0.3), point(3, 0.2), point(4, 0.3)), state, 4);
        assertTrue(s.stopped());
        assertEquals(2, s.bestEpoch());
        assertEquals(0.3, s.bestScore());
        assertEquals(state, s.bestState());
        // A point newer than the model checkpoint (epoch 3 here) is dropped: that epoch is trained again.
        s.resume(List.of(point(1, 0.1), point(2, 0.3), point(3, 0.2), point(4, 0.25)), state, 3);
        assertFalse(s.stopped());
        assertEquals(3, s.history().size());
        s.resume(List.of(), state, 0);
        assertNull(s.bestState());
        assertEquals(0, s.bestEpoch());
    }

    @Test
    void theTrainerStopsWhenAskedAndTheKeptStateScoresTheBest() {
        EarlyStopping stopping = new EarlyStopping(3, 10, data.test, data.corpus, metric);
        TwoTowerModel model = new TwoTowerModel(ModelConfig.tutorial(new int[]{16}, 2), data.spec);
        List<Integer> epochs = new ArrayList<>();
        LocalTrainer trainer = new LocalTrainer(new TrainingOptions(128, 60, 1, 3), metric, new TrainingListener() {
            @Override
            public void evaluated(CurvePoint point) {
                epochs.add(point.epoch());
                stopping.update(point.epoch(), point.meanLoss(), point.trainSeconds(), model);
            }

            @Override
            public boolean stopRequested() {
                return stopping.stopped();
            }
        });
        trainer.fit(model, data.corpus, data.train, data.test);
        assertTrue(stopping.stopped(), "3,000 ratings overfit long before 60 epochs; the curve was "
                + stopping.history().stream().map(p -> p.accuracy().at(10)).toList());
        assertEquals(stopping.bestEpoch() + 3, epochs.get(epochs.size() - 1), "stopped right after the patience ran out");
        assertEquals(epochs, stopping.history().stream().map(CurvePoint::epoch).toList());
        // The kept state is the best epoch's, not the last one's: applied to a fresh model it scores the best again.
        TwoTowerModel restored = new TwoTowerModel(ModelConfig.tutorial(new int[]{16}, 2), data.spec);
        stopping.bestState().applyTo(restored);
        assertEquals(stopping.bestScore(), trainer.evaluate(restored, data.corpus, data.test).at(10), 0.0);
        assertFalse(java.util.Arrays.equals(stopping.bestState().values(), ModelState.of(model).values()));
    }

    @Test
    void badSettingsAreNamed() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new EarlyStopping(0, 10, data.test, data.corpus, metric))
                .getMessage().contains("patience"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new EarlyStopping(2, 100, data.test, data.corpus, metric))
                .getMessage().contains("100 is not one of the metric's Ks [10, 20]"));
        assertArrayEquals(new int[]{10, 20}, metric.ks());
    }
}
