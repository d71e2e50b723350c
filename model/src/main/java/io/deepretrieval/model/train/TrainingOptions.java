package io.deepretrieval.model.train;

/**
 * How a model is trained: batch size, epochs, evaluation cadence, the shuffling seed and the threads of a step.
 *
 * @param evalEvery   evaluate after every this many epochs (and after the last)
 * @param stepThreads threads each training step splits its batch's queries over ({@link TrainingStep}); the
 *                    result is the same step up to float rounding
 */
public record TrainingOptions(int batchSize, int epochs, int evalEvery, long shuffleSeed, int stepThreads)
        implements java.io.Serializable {
    /** Options whose steps run on the calling thread alone. */
    public TrainingOptions(int batchSize, int epochs, int evalEvery, long shuffleSeed) {
        this(batchSize, epochs, evalEvery, shuffleSeed, 1);
    }

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
        if (stepThreads < 1) {
            throw new IllegalArgumentException("stepThreads must be >= 1, got " + stepThreads);
        }
    }

    /** True when the curve gets a point after {@code epoch} (1-based). */
    public boolean evaluatesAfter(int epoch) {
        return epoch % evalEvery == 0 || epoch == epochs;
    }
}
