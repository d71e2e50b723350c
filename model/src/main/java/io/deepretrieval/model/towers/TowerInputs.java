package io.deepretrieval.model.towers;

import io.deepretrieval.model.features.FittedFeature;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;

import java.util.ArrayList;
import java.util.List;

/**
 * A tower's input layer built from its feature list: per feature, in order, its looked-up embedding (the mean of
 * the token embeddings for text) and its normalised value, concatenated. The lookups run in Java
 * ({@link EmbeddingTable}), so these are the graph's placeholders.
 */
public final class TowerInputs {
    private TowerInputs() {
    }

    /** The placeholder of a feature's embedding ([n, dim]). */
    public static String embeddingInput(FittedFeature f) {
        return switch (f.kind()) {
            case CATEGORICAL -> f.name() + "_embedding";
            case TEXT, HISTORY -> f.name() + "_mean";
            case TIMESTAMP -> f.name() + "_bucket_embedding";
            case NUMERIC -> throw new IllegalArgumentException("feature '" + f.name() + "' has no embedding");
        };
    }

    /** The placeholder of a feature's normalised value ([n, 1]). */
    public static String valueInput(FittedFeature f) {
        return f.name() + "_normalized";
    }

    /** Width of the concatenated input. */
    static int width(List<FittedFeature> features, int dim) {
        int w = 0;
        for (FittedFeature f : features) {
            w += (f.embedded() ? dim : 0) + (f.valued() ? 1 : 0);
        }
        return w;
    }

    /** The embedding placeholders of some features, in order. */
    static List<String> embeddingInputs(List<FittedFeature> features) {
        return features.stream().filter(FittedFeature::embedded).map(TowerInputs::embeddingInput).toList();
    }

    /** Adds the placeholders and returns their concatenation. */
    static SDVariable build(SameDiff sd, List<FittedFeature> features, int dim) {
        List<SDVariable> parts = new ArrayList<>();
        for (FittedFeature f : features) {
            if (f.embedded()) {
                parts.add(sd.placeHolder(embeddingInput(f), DataType.FLOAT, -1, dim));
            }
            if (f.valued()) {
                parts.add(sd.placeHolder(valueInput(f), DataType.FLOAT, -1, 1));
            }
        }
        return parts.size() == 1 ? parts.get(0) : sd.concat(1, parts.toArray(SDVariable[]::new));
    }

    /** A freshly initialised tower: the inputs of {@code features} → dense stack, output named {@code output}. */
    static SDVariable tower(SameDiff sd, String prefix, String output, ModelConfig config, List<FittedFeature> features,
                            java.util.SplittableRandom rng) {
        int d = config.embeddingDim();
        return sd.identity(output, DenseStack.build(sd, prefix, build(sd, features, d), width(features, d),
                config.layerSizes(), rng));
    }

    /** The tower with its dense arrays taken from {@code values} by name (shared, not copied). */
    static SDVariable tower(SameDiff sd, String prefix, String output, ModelConfig config, List<FittedFeature> features,
                            java.util.function.Function<String, org.nd4j.linalg.api.ndarray.INDArray> values) {
        return sd.identity(output, DenseStack.build(sd, prefix, build(sd, features, config.embeddingDim()),
                config.layerSizes(), values));
    }

    /** Whether a feature's embedding is a masked mean of several rows (text, history) rather than one row. */
    static boolean pooled(FittedFeature f) {
        return f.pooled();
    }
}
