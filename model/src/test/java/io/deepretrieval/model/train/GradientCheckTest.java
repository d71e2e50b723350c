package io.deepretrieval.model.train;

import io.deepretrieval.model.features.Interactions;
import io.deepretrieval.model.towers.ModelConfig;
import io.deepretrieval.model.towers.Parameter;
import io.deepretrieval.model.towers.TwoTowerModel;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every analytical gradient of a tiny model (graph gradients plus the Java embedding path) against central differences. */
class GradientCheckTest {
    @Test
    void analyticalGradientsMatchFiniteDifferences() {
        SyntheticData data = new SyntheticData(6, 16, 40, 3);
        // Larger embeddings than Keras' ±0.05 so gradients stand clear of float32 rounding of the loss.
        TwoTowerModel model = new TwoTowerModel(new ModelConfig(4, new int[]{5, 3}, 0.1, 0.1, 1e-7, 11), data.spec);
        for (Parameter p : model.tables()) {
            float[] v = p.values();
            for (int i = 0; i < v.length; i++) {
                v[i] *= 20;  // uniform(-1, 1)
            }
            p.valuesChanged();
        }
        TrainingStep step = new TrainingStep(model, data.corpus);
        Interactions batch = data.train.select(null, 0, 12);
        step.computeGradients(batch);

        double h = 2e-3;
        int checked = 0;
        for (Parameter p : model.parameters().values()) {
            float[] v = p.values();
            float[] g = p.gradient().clone();
            for (int i = 0; i < v.length; i++) {
                float saved = v[i];
                v[i] = (float) (saved + h);
                p.valuesChanged();
                double up = step.loss(batch);
                v[i] = (float) (saved - h);
                p.valuesChanged();
                double down = step.loss(batch);
                v[i] = saved;
                p.valuesChanged();
                double numeric = (up - down) / (2 * h);
                double tolerance = 2e-2 + 5e-2 * Math.abs(numeric);
                assertEquals(numeric, g[i], tolerance, p.name() + "[" + i + "]");
                if (g[i] != 0) {
                    checked++;
                }
            }
        }
        assertTrue(checked > 100, "only " + checked + " non-zero gradient entries were checked");
    }
}
