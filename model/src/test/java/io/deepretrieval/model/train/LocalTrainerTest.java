package io.deepretrieval.model.train;

import io.deepretrieval.model.metrics.FactorizedTopK;
import io.deepretrieval.model.towers.ModelConfig;
import io.deepretrieval.model.towers.TwoTowerModel;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LocalTrainerTest {
    private final SyntheticData data = new SyntheticData(120, 160, 6000, 5);

    @Test
    void learnsThePlantedPreferenceFarBeyondRandomRanking() {
        List<Double> losses = new ArrayList<>();
        LocalTrainer trainer = new LocalTrainer(new TrainingOptions(256, 8, 4, 1), new FactorizedTopK(1, 10, 20),
                new TrainingListener() {
                    @Override
                    public void epochDone(int epoch, int epochs, double meanLoss, double eps, double eta) {
                        losses.add(meanLoss);
                    }
                });
        List<CurvePoint> curve = trainer.fit(new TwoTowerModel(ModelConfig.tutorial(new int[]{32}, 1), data.spec),
                data.corpus, data.train, data.test);
        assertEquals(List.of(4, 8), curve.stream().map(CurvePoint::epoch).toList());
        assertEquals(8, losses.size());
        assertTrue(losses.get(7) < losses.get(0) * 0.9, "loss did not fall: " + losses);
        // 160 candidates, 20 per group: a random ranking puts the true movie in the top 20 one time in 8.
        double top20 = curve.get(1).accuracy().at(20);
        assertTrue(top20 > 0.4, "top-20 accuracy " + top20 + " is not clearly above random (0.125)");
    }

    @Test
    void sameSeedSameCurve() {
        TrainingOptions options = new TrainingOptions(512, 2, 1, 9);
        double a = new LocalTrainer(options, new FactorizedTopK(10), TrainingListener.NONE)
                .fit(new TwoTowerModel(ModelConfig.tutorial(new int[]{16}, 3), data.spec), data.corpus, data.train, data.test)
                .get(1).accuracy().at(10);
        double b = new LocalTrainer(options, new FactorizedTopK(10), TrainingListener.NONE)
                .fit(new TwoTowerModel(ModelConfig.tutorial(new int[]{16}, 3), data.spec), data.corpus, data.train, data.test)
                .get(1).accuracy().at(10);
        assertEquals(a, b, 0.0);
    }

    @Test
    void nanLossStopsWithEpochAndStep() {
        LocalTrainer trainer = new LocalTrainer(new TrainingOptions(256, 3, 1, 1), new FactorizedTopK(10), TrainingListener.NONE);
        TwoTowerModel model = new TwoTowerModel(new ModelConfig(32, new int[]{32}, 1e30, 0.1, 1e-7, 1), data.spec);
        NumericFault fault = assertThrows(NumericFault.class, () -> trainer.fit(model, data.corpus, data.train, data.test));
        assertTrue(fault.getMessage().matches("epoch \\d+, step \\d+: loss is (NaN|Infinity).*"), fault.getMessage());
    }
}
