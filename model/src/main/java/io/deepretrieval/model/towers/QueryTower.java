package io.deepretrieval.model.towers;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;

import java.util.SplittableRandom;

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
        SDVariable user = sd.placeHolder(USER_EMBEDDING, DataType.FLOAT, -1, d);
        SDVariable bucket = sd.placeHolder(BUCKET_EMBEDDING, DataType.FLOAT, -1, d);
        SDVariable time = sd.placeHolder(NORMALIZED_TIMESTAMP, DataType.FLOAT, -1, 1);
        SDVariable features = sd.concat(1, user, bucket, time);
        SDVariable out = DenseStack.build(sd, "query", features, 2 * d + 1, config.layerSizes(), rng);
        return sd.identity(OUTPUT, out);
    }
}
