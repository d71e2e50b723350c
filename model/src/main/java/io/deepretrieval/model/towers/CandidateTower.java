package io.deepretrieval.model.towers;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.SplittableRandom;
import java.util.function.Function;

/** Candidate tower: concat(title embedding, masked mean of title-token embeddings) → dense stack. */
public final class CandidateTower {
    public static final String TITLE_EMBEDDING = "title_embedding";
    /** The mean of the title's token embeddings, padding excluded (computed by {@link EmbeddingTable#weightedSum}). */
    public static final String TOKEN_MEAN = "title_token_mean";
    public static final String OUTPUT = "candidate_embedding";

    private CandidateTower() {
    }

    /** Adds the tower to {@code sd}; returns its output, named {@link #OUTPUT}. */
    static SDVariable build(SameDiff sd, ModelConfig config, SplittableRandom rng) {
        int d = config.embeddingDim();
        return sd.identity(OUTPUT, DenseStack.build(sd, "candidate", features(sd, d), 2 * d, config.layerSizes(), rng));
    }

    /** Adds the tower with its dense arrays taken from {@code values} by name (shared, not copied). */
    static SDVariable build(SameDiff sd, ModelConfig config, Function<String, INDArray> values) {
        SDVariable features = features(sd, config.embeddingDim());
        return sd.identity(OUTPUT, DenseStack.build(sd, "candidate", features, config.layerSizes(), values));
    }

    private static SDVariable features(SameDiff sd, int d) {
        SDVariable title = sd.placeHolder(TITLE_EMBEDDING, DataType.FLOAT, -1, d);
        SDVariable meanTokens = sd.placeHolder(TOKEN_MEAN, DataType.FLOAT, -1, d);
        return sd.concat(1, title, meanTokens);
    }
}
