package io.deepretrieval.model.train;

/**
 * Adagrad as Keras defines it: {@code acc += g²; p -= lr·g / (√acc + ε)}, with the accumulator starting at
 * {@code initialAccumulator} (Keras: 0.1; ND4J's own AdaGrad starts it at ε, which trains differently).
 * Works on plain arrays, so the state can be checkpointed and averaged across workers as it is.
 */
public final class Adagrad {
    private final float learningRate;
    private final float epsilon;

    /** The accumulators' starting value lives with each parameter ({@code ModelConfig.initialAccumulator}). */
    public Adagrad(double learningRate, double epsilon) {
        this.learningRate = (float) learningRate;
        this.epsilon = (float) epsilon;
    }

    public float learningRate() {
        return learningRate;
    }

    /** Updates {@code param[offset..offset+len)} in place from the gradient at the same positions. */
    public void update(float[] param, float[] accumulator, float[] gradient, int offset, int len) {
        for (int i = offset, end = offset + len; i < end; i++) {
            float g = gradient[i];
            float acc = accumulator[i] + g * g;
            accumulator[i] = acc;
            param[i] -= learningRate * g / ((float) Math.sqrt(acc) + epsilon);
        }
    }
}
