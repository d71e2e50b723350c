package io.deepretrieval.model.towers;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.SplittableRandom;
import java.util.function.Function;

/** Stacked dense layers as in the tutorial: ReLU on every layer but the last, which is linear. */
public final class DenseStack {
    private DenseStack() {
    }

    /** A freshly initialised stack (Glorot-uniform kernels, zero biases) for training. */
    static SDVariable build(SameDiff sd, String prefix, SDVariable input, int inputWidth, int[] layerSizes,
                            SplittableRandom rng) {
        int[] width = {inputWidth};
        int[] layer = {0};
        return build(sd, prefix, input, layerSizes, name -> {
            if (name.endsWith("_kernel")) {
                return KerasInit.glorotUniform(rng, width[0], layerSizes[layer[0]]);
            }
            width[0] = layerSizes[layer[0]++];
            return Nd4j.zeros(DataType.FLOAT, width[0]);
        });
    }

    /**
     * The stack with its arrays taken from {@code values} by name ({@code <prefix>_dense<i>_kernel} / {@code _bias},
     * asked for in that order), e.g. trained values for a serving graph.
     */
    public static SDVariable build(SameDiff sd, String prefix, SDVariable input, int[] layerSizes,
                                   Function<String, INDArray> values) {
        SDVariable x = input;
        for (int i = 0; i < layerSizes.length; i++) {
            String base = prefix + "_dense" + i;
            SDVariable kernel = sd.var(base + "_kernel", values.apply(base + "_kernel"));
            SDVariable bias = sd.var(base + "_bias", values.apply(base + "_bias"));
            x = x.mmul(kernel).add(bias);
            if (i < layerSizes.length - 1) {
                x = sd.nn.relu(x, 0.0);
            }
        }
        return x;
    }
}
