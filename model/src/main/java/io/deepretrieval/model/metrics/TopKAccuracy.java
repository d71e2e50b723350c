package io.deepretrieval.model.metrics;

import java.util.Arrays;

/** Top-K accuracies for a list of K values, e.g. K = 1, 5, 10, 50, 100. */
public record TopKAccuracy(int[] ks, double[] accuracy) {
    public TopKAccuracy {
        if (ks.length != accuracy.length) {
            throw new IllegalArgumentException("ks and accuracy differ in length");
        }
        ks = ks.clone();
        accuracy = accuracy.clone();
    }

    /** Accuracy at {@code k}; {@code k} must be one of {@link #ks()}. */
    public double at(int k) {
        for (int i = 0; i < ks.length; i++) {
            if (ks[i] == k) {
                return accuracy[i];
            }
        }
        throw new IllegalArgumentException("top-" + k + " was not computed (have " + Arrays.toString(ks) + ")");
    }

    @Override
    public int[] ks() {
        return ks.clone();
    }

    @Override
    public double[] accuracy() {
        return accuracy.clone();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < ks.length; i++) {
            sb.append(i == 0 ? "" : " ").append("top").append(ks[i]).append('=').append(String.format("%.4f", accuracy[i]));
        }
        return sb.toString();
    }
}
