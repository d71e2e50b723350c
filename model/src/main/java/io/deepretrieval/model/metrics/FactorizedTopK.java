package io.deepretrieval.model.metrics;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Factorized top-K accuracy (TFRS {@code metrics.FactorizedTopK}): each query is scored against every candidate by
 * dot product; it is a hit at K when fewer than K candidates score strictly higher than its true candidate
 * (so ties with the true candidate count in its favour). One matrix product per block of queries plus a counting
 * pass; no sort.
 */
public final class FactorizedTopK {
    private static final int BLOCK = 2048;
    private final int[] ks;

    public FactorizedTopK(int... ks) {
        if (ks.length == 0) {
            throw new IllegalArgumentException("need at least one K");
        }
        for (int k : ks) {
            if (k < 1) {
                throw new IllegalArgumentException("K must be >= 1, got " + k);
            }
        }
        this.ks = ks.clone();
    }

    /** The tutorial's K values. */
    public static FactorizedTopK tutorial() {
        return new FactorizedTopK(1, 5, 10, 50, 100);
    }

    /**
     * @param queries    [n, d] query embeddings
     * @param candidates [m, d] embeddings of all candidates
     * @param positives  for each query, the row of its true candidate
     */
    public TopKAccuracy evaluate(INDArray queries, INDArray candidates, int[] positives) {
        long n = queries.rows();
        if (positives.length != n) {
            throw new IllegalArgumentException(n + " queries but " + positives.length + " positives");
        }
        int m = (int) candidates.rows();
        INDArray candT = candidates.transpose().dup('c');
        long[] hits = new long[ks.length];
        for (long from = 0; from < n; from += BLOCK) {
            long to = Math.min(n, from + BLOCK);
            INDArray scores = queries.get(NDArrayIndex.interval(from, to), NDArrayIndex.all()).mmul(candT);
            float[] s = scores.data().asFloat();
            for (int i = 0; i < to - from; i++) {
                int p = positives[(int) (from + i)];
                if (p < 0 || p >= m) {
                    throw new IllegalArgumentException("positive " + p + " outside 0.." + (m - 1));
                }
                float truth = s[i * m + p];
                int higher = 0;
                for (int j = i * m, end = j + m; j < end; j++) {
                    if (s[j] > truth) {
                        higher++;
                    }
                }
                for (int k = 0; k < ks.length; k++) {
                    if (higher < ks[k]) {
                        hits[k]++;
                    }
                }
            }
        }
        double[] acc = new double[ks.length];
        for (int k = 0; k < ks.length; k++) {
            acc[k] = n == 0 ? 0 : (double) hits[k] / n;
        }
        return new TopKAccuracy(ks, acc);
    }
}
