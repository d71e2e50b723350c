package io.deepretrieval.model.towers;

import java.util.Arrays;

/**
 * Architecture and optimizer settings of the two-tower model (the tutorial's defaults in {@link #tutorial}).
 *
 * @param embeddingDim width of every embedding table
 * @param layerSizes   the dense stack on top of each tower; ReLU on all but the last, which is the output width
 * @param initSeed     seed of the parameter initialisation
 */
public record ModelConfig(int embeddingDim, int[] layerSizes, double learningRate, double initialAccumulator,
                          double epsilon, long initSeed) implements java.io.Serializable {

    /** Largest accepted layer width; wider layers are almost surely a typo. */
    public static final int MAX_LAYER_SIZE = 65_536;

    public ModelConfig {
        if (embeddingDim < 1) {
            throw new IllegalArgumentException("embeddingDim must be >= 1, got " + embeddingDim);
        }
        if (layerSizes == null || layerSizes.length == 0) {
            throw new IllegalArgumentException("layerSizes must name at least one layer");
        }
        for (int size : layerSizes) {
            if (size < 1 || size > MAX_LAYER_SIZE) {
                throw new IllegalArgumentException("layer size " + size + " in " + Arrays.toString(layerSizes)
                        + " is out of range 1.." + MAX_LAYER_SIZE);
            }
        }
        if (!(learningRate > 0) || !(initialAccumulator >= 0) || !(epsilon > 0)) {
            throw new IllegalArgumentException("learningRate and epsilon must be > 0 and initialAccumulator >= 0");
        }
        layerSizes = layerSizes.clone();
    }

    /** The tutorial's settings: embeddings of 32, Adagrad(0.1) with initial accumulator 0.1, epsilon 1e-7. */
    public static ModelConfig tutorial(int[] layerSizes, long seed) {
        return new ModelConfig(32, layerSizes, 0.1, 0.1, 1e-7, seed);
    }

    @Override
    public int[] layerSizes() {
        return layerSizes.clone();
    }

    /** Width of the final embedding. */
    public int outputDim() {
        return layerSizes[layerSizes.length - 1];
    }

    /** e.g. "64_32", used in file names. */
    public String depthLabel() {
        return label(layerSizes);
    }

    public static String label(int[] layerSizes) {
        StringBuilder sb = new StringBuilder();
        for (int s : layerSizes) {
            sb.append(sb.length() == 0 ? "" : "_").append(s);
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelConfig m && embeddingDim == m.embeddingDim && Arrays.equals(layerSizes, m.layerSizes)
                && learningRate == m.learningRate && initialAccumulator == m.initialAccumulator
                && epsilon == m.epsilon && initSeed == m.initSeed;
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(layerSizes) + Long.hashCode(initSeed);
    }

    @Override
    public String toString() {
        return "ModelConfig[embeddingDim=" + embeddingDim + ", layerSizes=" + Arrays.toString(layerSizes)
                + ", learningRate=" + learningRate + ", initialAccumulator=" + initialAccumulator
                + ", epsilon=" + epsilon + ", initSeed=" + initSeed + "]";
    }
}
