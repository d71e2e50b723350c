package io.deepretrieval.model.train;

/**
 * How a model is trained: batch size, epochs, evaluation cadence and the shuffling seed.
 *
 * @param evalEvery evaluate after every this many epochs (and after the last)
 */
public record TrainingOptions(int batchSize, int epochs, int evalEvery, long shuffleSeed) implements java.io.Serializable {
    public TrainingOptions {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
        }
        if (epochs < 1) {
            throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
        }
        if (evalEvery < 1) {
            throw new IllegalArgumentException("evalEvery must be >= 1, got " + evalEvery);
        }
    }

    /** True when the curve gets a point after {@code epoch} (1-based). */
    public boolean evaluatesAfter(int epoch) {
        return epoch % evalEvery == 0 || epoch == epochs;
    }
}
