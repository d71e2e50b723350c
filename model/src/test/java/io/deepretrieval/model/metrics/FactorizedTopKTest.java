package io.deepretrieval.model.metrics;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

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
}
