package io.deepretrieval.model.towers;

import io.deepretrieval.model.features.FittedFeature;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Query tower: its features' inputs concatenated ({@link TowerInputs}) → dense stack. In the tutorial:
 * concat(user embedding, timestamp-bucket embedding, normalised timestamp).
 */
public final class QueryTower {
    public static final String PREFIX = "query";
    public static final String OUTPUT = "query_embedding";

    private QueryTower() {
    }

    /** Adds the tower to {@code sd}; returns its output, named {@link #OUTPUT}. */
    static SDVariable build(SameDiff sd, ModelConfig config, List<FittedFeature> features, SplittableRandom rng) {
        return TowerInputs.tower(sd, PREFIX, OUTPUT, config, features, rng);
    }

    /** Adds the tower with its dense arrays taken from {@code values} by name (shared, not copied). */
    static SDVariable build(SameDiff sd, ModelConfig config, List<FittedFeature> features, Function<String, INDArray> values) {
        return TowerInputs.tower(sd, PREFIX, OUTPUT, config, features, values);
    }
}
