package io.deepretrieval.model.towers;

/** A trainable array with its Adagrad accumulator, both plain {@code float[]} (row-major). */
public interface Parameter {
    String name();

    /** Live values; after writing them from outside, call {@link #valuesChanged()}. */
    float[] values();

    /** Live Adagrad accumulator, same layout as the values. */
    float[] accumulator();

    /** Gradient summed by {@code TrainingStep.computeGradients} since the last update, same layout; cleared by it. */
    float[] gradient();

    long[] shape();

    /** Propagates values written from outside (restore, averaging) to wherever the model computes with them. */
    void valuesChanged();
}
