package io.deepretrieval.model.towers;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.SplittableRandom;
import java.util.function.Function;

/** Query tower: concat(user embedding, timestamp-bucket embedding, normalised timestamp) → dense stack. */
public final class QueryTower {
    public static final String USER_EMBEDDING = "user_embedding";
    public static final String BUCKET_EMBEDDING = "timestamp_bucket_embedding";
    public static final String NORMALIZED_TIMESTAMP = "normalized_timestamp";
    public static final String OUTPUT = "query_embedding";

    private QueryTower() {
    }

    /** Adds the tower to {@code sd}; returns its output, named {@link #OUTPUT}. */
    static SDVariable build(SameDiff sd, ModelConfig config, SplittableRandom rng) {
        int d = config.embeddingDim();
        return sd.identity(OUTPUT, DenseStack.build(sd, "query", features(sd, d), 2 * d + 1, config.layerSizes(), rng));
    }

    /** Adds the tower with its dense arrays taken from {@code values} by name (shared, not copied). */
    static SDVariable build(SameDiff sd, ModelConfig config, Function<String, INDArray> values) {
        SDVariable features = features(sd, config.embeddingDim());
        return sd.identity(OUTPUT, DenseStack.build(sd, "query", features, config.layerSizes(), values));
    }

    private static SDVariable features(SameDiff sd, int d) {
        SDVariable user = sd.placeHolder(USER_EMBEDDING, DataType.FLOAT, -1, d);
        SDVariable bucket = sd.placeHolder(BUCKET_EMBEDDING, DataType.FLOAT, -1, d);
        SDVariable time = sd.placeHolder(NORMALIZED_TIMESTAMP, DataType.FLOAT, -1, 1);
        return sd.concat(1, user, bucket, time);
    }
}
