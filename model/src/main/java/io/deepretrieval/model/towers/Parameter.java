package io.deepretrieval.model.towers;

/** A trainable array with its Adagrad accumulator, both plain {@code float[]} (row-major). */
public interface Parameter {
    String name();

    /** Live values; after writing them from outside, call {@link #valuesChanged()}. */
    float[] values();

    /** Live Adagrad accumulator, same layout as the values. */
    float[] accumulator();

    /** Gradient accumulated by the last {@code TrainingStep.computeGradients}, same layout; cleared by the update. */
    float[] gradient();

    long[] shape();

    /** Propagates values written from outside (restore, averaging) to wherever the model computes with them. */
    void valuesChanged();
}
