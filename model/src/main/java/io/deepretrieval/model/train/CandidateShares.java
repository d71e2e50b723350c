package io.deepretrieval.model.train;

import io.deepretrieval.model.features.Interactions;

/**
 * Each candidate record's share of the training interactions, the frequencies the logQ correction subtracts.
 * Counted as plain sums so that workers can count their own rows and the driver add them up: every replica then
 * corrects by the frequencies of all training rows, the objective a single JVM trains.
 */
public final class CandidateShares {
    private CandidateShares() {
    }

    /** How often each of {@code corpusSize} candidate records is the positive of a row of {@code rows}. */
    public static long[] counts(Interactions rows, int corpusSize) {
        long[] counts = new long[corpusSize];
        for (int c : rows.candidate()) {
            counts[c]++;
        }
        return counts;
    }

    /** Element-wise sum of two count arrays, into {@code a}. */
    public static long[] add(long[] a, long[] b) {
        for (int i = 0; i < a.length; i++) {
            a[i] += b[i];
        }
        return a;
    }

    /** Counts divided by their total (all zero when there are no rows). */
    public static double[] shares(long[] counts) {
        long total = 0;
        for (long c : counts) {
            total += c;
        }
        double[] share = new double[counts.length];
        for (int i = 0; i < counts.length; i++) {
            share[i] = (double) counts[i] / Math.max(1, total);
        }
        return share;
    }

    /** The shares of the rows of {@code rows}. */
    public static double[] of(Interactions rows, int corpusSize) {
        return shares(counts(rows, corpusSize));
    }
}
