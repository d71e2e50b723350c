package io.deepretrieval.model.metrics;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FactorizedTopKTest {
    // One-dimensional embeddings make scores easy to read: score(q, c) = q * c.
    private final float[][] candidates = {{3}, {5}, {5}, {1}};

    private double[] accuracy(float query, int positive) {
        return new FactorizedTopK(1, 2, 3, 4).evaluate(Nd4j.create(new float[][]{{query}}), Nd4j.create(candidates),
                new int[]{positive}).accuracy();
    }

    @Test
    void hitWhenFewerThanKCandidatesScoreStrictlyHigher() {
        assertArrayEquals(new double[]{1, 1, 1, 1}, accuracy(1, 1), 0);  // 5 is the top score
        assertArrayEquals(new double[]{0, 0, 1, 1}, accuracy(1, 0), 0);  // two candidates score 5 > 3
        assertArrayEquals(new double[]{0, 0, 0, 1}, accuracy(1, 3), 0);  // three score higher than 1
    }

    @Test
    void tiesWithTheTrueCandidateCountInItsFavour() {
        // Candidates 1 and 2 tie at 5: either one is a top-1 hit.
        assertArrayEquals(new double[]{1, 1, 1, 1}, accuracy(1, 2), 0);
    }

    @Test
    void averagesOverQueriesAndBlocks() {
        int n = 5000; // spans several blocks of 2,048
        float[][] q = new float[n][1];
        int[] pos = new int[n];
        for (int i = 0; i < n; i++) {
            q[i][0] = i % 2 == 0 ? 1 : -1;   // negative queries invert the order
            pos[i] = 3;                      // score 1 (or -1, the best for negative queries)
        }
        TopKAccuracy acc = new FactorizedTopK(1, 4).evaluate(Nd4j.create(q), Nd4j.create(candidates), pos);
        assertEquals(0.5, acc.at(1), 1e-12);
        assertEquals(1.0, acc.at(4), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> acc.at(100));
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> new FactorizedTopK(0));
        assertThrows(IllegalArgumentException.class, () -> new FactorizedTopK(1).evaluate(
                Nd4j.create(new float[][]{{1}}), Nd4j.create(candidates), new int[]{9}));
    }

    @Test
    void aTallyFedInUnevenBlocksCountsLikeOnePass() {
        java.util.Random rng = new java.util.Random(5);
        int n = 3000;
        float[][] q = new float[n][4];
        float[][] c = new float[50][4];
        int[] pos = new int[n];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < 4; k++) {
                q[i][k] = (float) rng.nextGaussian();
            }
            pos[i] = rng.nextInt(c.length);
        }
        for (float[] row : c) {
            for (int k = 0; k < 4; k++) {
                row[k] = (float) rng.nextGaussian();
            }
        }
        FactorizedTopK metric = new FactorizedTopK(1, 5, 10);
        double[] whole = metric.evaluate(Nd4j.create(q), Nd4j.create(c), pos).accuracy();
        FactorizedTopK.Tally tally = metric.tally(Nd4j.create(c));
        int[] cuts = {0, 1, 700, 2900, n};
        for (int b = 0; b + 1 < cuts.length; b++) {
            float[][] part = java.util.Arrays.copyOfRange(q, cuts[b], cuts[b + 1]);
            tally.add(Nd4j.create(part), java.util.Arrays.copyOfRange(pos, cuts[b], cuts[b + 1]));
        }
        assertArrayEquals(whole, tally.result().accuracy(), 0);
        assertTrue(whole[2] > 0.1 && whole[2] < 0.5, "random embeddings: top-10 of 50 near 0.2, got " + whole[2]);
    }

    @Test
    void aNonFiniteTrueScoreIsAMissAndANanRivalScoresHigher() {
        float nan = Float.NaN;
        float[][] c = {{3}, {nan}, {1}, {Float.POSITIVE_INFINITY}, {Float.NEGATIVE_INFINITY}};
        FactorizedTopK metric = new FactorizedTopK(1, 2, 3, 5);
        // query 1 scores: 3, NaN, 1, +inf, -inf
        assertArrayEquals(new double[]{0, 0, 1, 1}, metric.evaluate(Nd4j.create(new float[][]{{1}}), Nd4j.create(c),
                new int[]{0}).accuracy(), 0);  // NaN and +inf rank above 3
        assertArrayEquals(new double[]{0, 0, 0, 0}, metric.evaluate(Nd4j.create(new float[][]{{1}}), Nd4j.create(c),
                new int[]{1}).accuracy(), 0);  // NaN truth
        assertArrayEquals(new double[]{0, 0, 0, 0}, metric.evaluate(Nd4j.create(new float[][]{{1}}), Nd4j.create(c),
                new int[]{3}).accuracy(), 0);  // +inf truth
        assertArrayEquals(new double[]{0, 0, 0, 0}, metric.evaluate(Nd4j.create(new float[][]{{-1}}), Nd4j.create(c),
                new int[]{4}).accuracy(), 0);  // -1 * -inf = +inf truth
        // A NaN query scores NaN against everything: a miss, even though every candidate "ties".
        assertArrayEquals(new double[]{0, 0, 0, 0}, metric.evaluate(Nd4j.create(new float[][]{{nan}}),
                Nd4j.create(candidates), new int[]{1}).accuracy(), 0);
    }

    // ---- Reference: an independent, deliberately plain implementation of the documented rule. ----

    /**
     * Hits per K of each query: score = dot product in double; the true candidate's score must be finite, else a
     * miss; rivals are the candidates scoring strictly higher, or NaN; a hit at K when fewer than K rivals.
     */
    private static long[] referenceHits(float[][] q, float[][] c, int[] pos, int[] ks) {
        long[] hits = new long[ks.length];
        for (int i = 0; i < q.length; i++) {
            double[] score = new double[c.length];
            for (int j = 0; j < c.length; j++) {
                double sum = 0;
                for (int k = 0; k < q[i].length; k++) {
                    sum += (double) q[i][k] * (double) c[j][k];
                }
                score[j] = sum;
            }
            double truth = score[pos[i]];
            if (Double.isNaN(truth) || Double.isInfinite(truth)) {
                continue;
            }
            int rivals = 0;
            for (int j = 0; j < c.length; j++) {
                if (Double.isNaN(score[j]) || score[j] > truth) {
                    rivals++;
                }
            }
            for (int k = 0; k < ks.length; k++) {
                if (rivals < ks[k]) {
                    hits[k]++;
                }
            }
        }
        return hits;
    }

    private static double[] referenceAccuracy(float[][] q, float[][] c, int[] pos, int[] ks) {
        long[] hits = referenceHits(q, c, pos, ks);
        double[] acc = new double[ks.length];
        for (int k = 0; k < ks.length; k++) {
            acc[k] = (double) hits[k] / q.length;
        }
        return acc;
    }

    /** What a data set exercises, per query, as the reference sees it. */
    private static int[] coverage(float[][] q, float[][] c, int[] pos) {
        int ties = 0;
        int nonFiniteTruth = 0;
        int nanRival = 0;
        for (int i = 0; i < q.length; i++) {
            double[] score = new double[c.length];
            for (int j = 0; j < c.length; j++) {
                for (int k = 0; k < q[i].length; k++) {
                    score[j] += (double) q[i][k] * c[j][k];
                }
            }
            double truth = score[pos[i]];
            if (!Double.isFinite(truth)) {
                nonFiniteTruth++;
                continue;
            }
            boolean tie = false;
            boolean nan = false;
            for (int j = 0; j < c.length; j++) {
                tie |= j != pos[i] && score[j] == truth;
                nan |= Double.isNaN(score[j]);
            }
            ties += tie ? 1 : 0;
            nanRival += nan ? 1 : 0;
        }
        return new int[]{ties, nonFiniteTruth, nanRival};
    }

    /**
     * Random embeddings whose values are multiples of 1/{@code scale} in [-range, range]: every product and sum is
     * exact in float, so the metric's float scores equal the reference's double ones whatever the summation order.
     * Adds duplicate candidate rows, NaN queries, {@code broken} = 1: a NaN candidate, 2: also infinite ones, and
     * points some positives at those rows.
     */
    private static Object[] data(long seed, int n, int m, int d, int range, int scale, int broken) {
        Random rng = new Random(seed);
        float[][] q = new float[n][d];
        float[][] c = new float[m][d];
        for (float[][] a : new float[][][]{q, c}) {
            for (float[] row : a) {
                for (int k = 0; k < d; k++) {
                    row[k] = (float) (rng.nextInt(2 * range * scale + 1) - range * scale) / scale;
                }
            }
        }
        int[] pos = new int[n];
        for (int i = 0; i < n; i++) {
            pos[i] = rng.nextInt(m);
        }
        // Duplicates: candidates 1 and 2 identical, 5 a copy of 4; some queries want one of them.
        c[2] = c[1].clone();
        c[5] = c[4].clone();
        // Broken candidates: NaN in 7, +inf in 8, -inf in 9 (0 * inf entries make NaN scores too). A NaN candidate
        // outranks every truth, so top-1 is then 0: one shape goes without broken candidates.
        if (broken >= 1) {
            c[7][d - 1] = Float.NaN;
        }
        if (broken >= 2) {
            c[8][0] = Float.POSITIVE_INFINITY;
            c[9][0] = Float.NEGATIVE_INFINITY;
        }
        int[] special = {1, 2, 4, 5, 7, 8, 9};
        for (int i = 0; i < n; i += 11) {
            pos[i] = special[(i / 11) % special.length];
        }
        // NaN queries, in the first block and later ones (a NaN left in the reused buffer must not leak).
        for (int i : new int[]{3, 100, 2047, 2048, n - 2, n - 1}) {
            q[i][rng.nextInt(d)] = Float.NaN;
        }
        return new Object[]{q, c, pos};
    }

    @Test
    void matchesAnIndependentReferenceWithTiesDuplicatesAndNans() {
        int[][] shapes = {
                // seed, n, m, d, range, scale, broken candidates (0 none, 1 NaN, 2 NaN and infinities)
                {1, 5000, 40, 3, 2, 1, 0},     // small integers: many exact ties with the truth
                {4, 5000, 40, 3, 2, 1, 1},
                {2, 4500, 300, 6, 4, 8, 2},    // multiples of 1/8: fewer ties
                {3, 2100, 1000, 2, 1, 1, 2},   // values in {-1, 0, 1}: huge tie groups
        };
        int[] ks = {1, 2, 5, 10, 50, 100, 1000};
        for (int[] sh : shapes) {
            int broken = sh[6];
            Object[] data = data(sh[0], sh[1], sh[2], sh[3], sh[4], sh[5], broken);
            float[][] q = (float[][]) data[0];
            float[][] c = (float[][]) data[1];
            int[] pos = (int[]) data[2];
            int[] cov = coverage(q, c, pos);
            assertTrue(cov[0] > 100 && cov[1] >= 6 && (broken == 0 || cov[1] > 50 && cov[2] > 100),
                    "the data must exercise ties, non-finite truths and NaN rivals: " + Arrays.toString(cov));
            double[] expected = referenceAccuracy(q, c, pos, ks);
            String label = "shape " + Arrays.toString(sh);
            assertArrayEquals(expected, new FactorizedTopK(ks).evaluate(Nd4j.create(q), Nd4j.create(c), pos)
                    .accuracy(), 0, label);
            // Small blocks (7 queries of m candidates each) and a tally fed unevenly: the same counts.
            FactorizedTopK smallBlocks = new FactorizedTopK(7L * c.length, ks);
            assertArrayEquals(expected, smallBlocks.evaluate(Nd4j.create(q), Nd4j.create(c), pos).accuracy(), 0, label);
            FactorizedTopK.Tally tally = new FactorizedTopK(ks).tally(Nd4j.create(c));
            int[] cuts = {0, 1, 2049, 2050, q.length};
            for (int b = 0; b + 1 < cuts.length; b++) {
                tally.add(Nd4j.create(Arrays.copyOfRange(q, cuts[b], cuts[b + 1])),
                        Arrays.copyOfRange(pos, cuts[b], cuts[b + 1]));
            }
            assertArrayEquals(expected, tally.result().accuracy(), 0, label);
            assertTrue((broken > 0 || expected[0] > 0) && expected[0] < expected[ks.length - 1],
                    label + ": " + Arrays.toString(expected));
        }
    }

    // ---- Block size: rows × m stays within the cap. ----

    @Test
    void blockRowsKeepTheScoreMatrixWithinTheCap() {
        long cap = FactorizedTopK.DEFAULT_BLOCK_CAP;
        assertEquals(2048, FactorizedTopK.blockRows(10, cap));
        assertEquals(2048, FactorizedTopK.blockRows(11_000, cap));
        assertEquals(2048, FactorizedTopK.blockRows(cap / 2048, cap));
        assertEquals(2047, FactorizedTopK.blockRows(cap / 2048 + 1, cap));
        for (long m : new long[]{1_050_000, 2_000_000, 10_000_000, cap / 2, cap}) {
            int rows = FactorizedTopK.blockRows(m, cap);
            assertTrue(rows >= 1 && rows * m <= cap, m + " candidates: " + rows + " rows");
        }
        assertTrue(2048L * 1_050_000 > Integer.MAX_VALUE, "the old fixed block overflowed int here");
        assertEquals(1, FactorizedTopK.blockRows(cap + 1, cap));
        assertEquals(1, FactorizedTopK.blockRows(Integer.MAX_VALUE, cap));
        assertEquals(1, FactorizedTopK.blockRows(Long.MAX_VALUE, cap));
        assertEquals(5, FactorizedTopK.blockRows(200_000, 1_000_000));
        assertEquals(2048, FactorizedTopK.blockRows(0, cap)); // no candidates: any positive is rejected anyway
        assertThrows(IllegalArgumentException.class, () -> new FactorizedTopK(0L, 1));
        assertThrows(IllegalArgumentException.class, () -> new FactorizedTopK(1L << 31, 1));
    }

    @Test
    void manyCandidatesInBlocksSmallerThanTheOldOneCountAsTheReference() {
        int m = 200_000;
        int n = 23; // 5 rows per block under a 1M-score cap: 4 full blocks and one of 3
        float[][] c = new float[m][1];
        for (int j = 0; j < m; j++) {
            c[j][0] = (j * 7919 % 1001) - 500;  // integers in [-500, 500]: many ties
        }
        float[][] q = new float[n][1];
        int[] pos = new int[n];
        Random rng = new Random(11);
        for (int i = 0; i < n; i++) {
            q[i][0] = new float[]{1, -1, 2, 0.5f, 0}[i % 5];
            pos[i] = rng.nextInt(m);
        }
        q[12][0] = Float.NaN;
        c[pos[20]][0] = Float.NaN;
        int[] ks = {1, 100, 1000, 100_000, m};
        double[] expected = referenceAccuracy(q, c, pos, ks);
        assertArrayEquals(expected, new FactorizedTopK(1_000_000L, ks).evaluate(Nd4j.create(q), Nd4j.create(c), pos)
                .accuracy(), 0);
        assertArrayEquals(expected, new FactorizedTopK(ks).evaluate(Nd4j.create(q), Nd4j.create(c), pos).accuracy(), 0);
        assertEquals((n - 2.0) / n, expected[ks.length - 1], 1e-12); // only the NaN query and NaN truth miss at K = m
    }
}
