package io.deepretrieval.model.towers;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import java.util.SplittableRandom;

/** Stacked dense layers as in the tutorial: ReLU on every layer but the last, which is linear. */
final class DenseStack {
    private DenseStack() {
    }

    static SDVariable build(SameDiff sd, String prefix, SDVariable input, int inputWidth, int[] layerSizes,
                            SplittableRandom rng) {
        SDVariable x = input;
        int width = inputWidth;
        for (int i = 0; i < layerSizes.length; i++) {
            SDVariable kernel = sd.var(prefix + "_dense" + i + "_kernel", KerasInit.glorotUniform(rng, width, layerSizes[i]));
            SDVariable bias = sd.var(prefix + "_dense" + i + "_bias", Nd4j.zeros(DataType.FLOAT, layerSizes[i]));
            x = x.mmul(kernel).add(bias);
            if (i < layerSizes.length - 1) {
                x = sd.nn.relu(x, 0.0);
            }
            width = layerSizes[i];
        }
        return x;
    }
}
