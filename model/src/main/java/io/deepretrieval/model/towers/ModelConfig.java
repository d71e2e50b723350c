package io.deepretrieval.model.towers;

import io.deepretrieval.model.features.IdDropout;
import io.deepretrieval.model.task.RetrievalObjective;
import java.util.Arrays;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * Architecture and optimizer settings of the two-tower model (the tutorial's defaults in {@link #tutorial}).
 *
 * @param embeddingDim width of every embedding table
 * @param layerSizes   the dense stack on top of each tower; ReLU on all but the last, which is the output width
 * @param initSeed     seed of the parameter initialisation
 * @param learningRateSchedule piecewise-constant Adagrad rate: from each key's epoch (1-based) on, its value;
 *                     before the first key, {@code learningRate} (empty: {@code learningRate} throughout)
 * @param objective    the in-batch softmax's options (the tutorial's plain form by default)
 * @param idDropout    training-time dropout of a query id feature to the out-of-vocabulary row (none by default)
 */
public record ModelConfig(int embeddingDim, int[] layerSizes, double learningRate, double initialAccumulator,
                          double epsilon, long initSeed, NavigableMap<Integer, Double> learningRateSchedule,
                          RetrievalObjective objective,
                          IdDropout idDropout)
        implements java.io.Serializable {

    /** No id dropout. */
    public ModelConfig(int embeddingDim, int[] layerSizes, double learningRate, double initialAccumulator,
                       double epsilon, long initSeed, NavigableMap<Integer, Double> learningRateSchedule,
                       RetrievalObjective objective) {
        this(embeddingDim, layerSizes, learningRate, initialAccumulator, epsilon, initSeed, learningRateSchedule,
                objective, IdDropout.NONE);
    }

    /** The tutorial's objective. */
    public ModelConfig(int embeddingDim, int[] layerSizes, double learningRate, double initialAccumulator,
                       double epsilon, long initSeed, NavigableMap<Integer, Double> learningRateSchedule) {
        this(embeddingDim, layerSizes, learningRate, initialAccumulator, epsilon, initSeed, learningRateSchedule,
                RetrievalObjective.TUTORIAL);
    }

    /** These settings with another objective. */
    public ModelConfig withObjective(RetrievalObjective o) {
        return new ModelConfig(embeddingDim, layerSizes, learningRate, initialAccumulator, epsilon, initSeed,
                learningRateSchedule, o, idDropout);
    }

    /** These settings with another id dropout. */
    public ModelConfig withIdDropout(IdDropout d) {
        return new ModelConfig(embeddingDim, layerSizes, learningRate, initialAccumulator, epsilon, initSeed,
                learningRateSchedule, objective, d);
    }

    /** A constant learning rate. */
    public ModelConfig(int embeddingDim, int[] layerSizes, double learningRate, double initialAccumulator,
                       double epsilon, long initSeed) {
        this(embeddingDim, layerSizes, learningRate, initialAccumulator, epsilon, initSeed, new TreeMap<>());
    }

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
        objective = objective == null ? RetrievalObjective.TUTORIAL : objective;
        idDropout = idDropout == null ? IdDropout.NONE : idDropout;
        learningRateSchedule = new TreeMap<>(learningRateSchedule == null ? Map.of() : learningRateSchedule);
        for (Map.Entry<Integer, Double> e : learningRateSchedule.entrySet()) {
            if (e.getKey() == null || e.getKey() < 1 || e.getValue() == null || !(e.getValue() > 0)
                    || e.getValue().isInfinite()) {
                throw new IllegalArgumentException("learningRateSchedule: epoch " + e.getKey() + " -> rate "
                        + e.getValue() + " needs an epoch >= 1 and a positive, finite rate");
            }
        }
    }

    /** The Adagrad rate of the steps of {@code epoch} (1-based). */
    public double learningRateAt(int epoch) {
        Map.Entry<Integer, Double> e = learningRateSchedule.floorEntry(epoch);
        return e == null ? learningRate : e.getValue();
    }

    @Override
    public NavigableMap<Integer, Double> learningRateSchedule() {
        return new TreeMap<>(learningRateSchedule);
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
                && epsilon == m.epsilon && initSeed == m.initSeed && learningRateSchedule.equals(m.learningRateSchedule)
                && objective.equals(m.objective) && idDropout.equals(m.idDropout);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(layerSizes) + Long.hashCode(initSeed);
    }

    @Override
    public String toString() {
        return "ModelConfig[embeddingDim=" + embeddingDim + ", layerSizes=" + Arrays.toString(layerSizes)
                + ", learningRate=" + learningRate + ", initialAccumulator=" + initialAccumulator
                + ", epsilon=" + epsilon + ", initSeed=" + initSeed
                + (learningRateSchedule.isEmpty() ? "" : ", learningRateSchedule=" + learningRateSchedule)
                + (objective.plain() ? "" : ", objective=" + objective)
                + (idDropout.active() ? ", idDropout=" + idDropout : "") + "]";
    }
}
