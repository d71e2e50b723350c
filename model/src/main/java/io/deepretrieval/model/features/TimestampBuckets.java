package io.deepretrieval.model.features;

import java.util.Arrays;

/** Timestamp discretisation with {@code linspace(min, max, n)} boundaries, bucketed like TF's {@code Bucketize}. */
public final class TimestampBuckets {
    private TimestampBuckets() {
    }

    /** {@code n} evenly spaced boundaries from {@code min} to {@code max}, both included (numpy's linspace). */
    public static double[] linspace(double min, double max, int n) {
        if (n < 2) {
            throw new IllegalArgumentException("need at least 2 bucket boundaries, got " + n);
        }
        double[] out = new double[n];
        double step = (max - min) / (n - 1);
        for (int i = 0; i < n; i++) {
            out[i] = min + i * step;
        }
        out[n - 1] = max;
        return out;
    }

    /**
     * Bucket index in {@code 0..boundaries.length}: the number of boundaries that are {@code <= value}.
     * A value equal to a boundary falls in the bucket that starts at it; below the first boundary is bucket 0.
     */
    public static int bucket(double[] boundaries, double value) {
        int pos = Arrays.binarySearch(boundaries, value);
        if (pos >= 0) {
            // Step past equal boundaries (linspace over a zero range repeats values).
            while (pos + 1 < boundaries.length && boundaries[pos + 1] == value) {
                pos++;
            }
            return pos + 1;
        }
        return -pos - 1;
    }
}
