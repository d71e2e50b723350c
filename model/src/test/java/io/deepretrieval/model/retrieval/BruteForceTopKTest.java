package io.deepretrieval.model.retrieval;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class BruteForceTopKTest {
    /** Independent reference: every score in double, full sort by (score desc, row asc), NaN left out. */
    private static int[] reference(float[] q, int qi, float[] c, int m, int dim, int k) {
        return reference(q, qi, c, m, dim, k, null);
    }

    /** The same, leaving out the rows {@code exclude} (null: none). */
    static int[] reference(float[] q, int qi, float[] c, int m, int dim, int k, int[] exclude) {
        List<double[]> scored = new ArrayList<>();
        for (int j = 0; j < m; j++) {
            final int row = j;
            if (exclude != null && java.util.Arrays.stream(exclude).anyMatch(x -> x == row)) {
                continue;
            }
            double s = 0;
            for (int d = 0; d < dim; d++) {
                s += (double) q[qi * dim + d] * c[j * dim + d];
            }
            if (!Double.isNaN(s)) {
                scored.add(new double[]{s, j});
            }
        }
        scored.sort(Comparator.<double[]>comparingDouble(x -> -x[0]).thenComparingDouble(x -> x[1]));
        return scored.stream().limit(k).mapToInt(x -> (int) x[1]).toArray();
    }

    @Test
    void equalsAFullSortWithTiesToTheLowerRowAndNoNaN() {
        SplittableRandom rng = new SplittableRandom(3);
        int m = 300, dim = 4, n = 2500; // several query blocks
        float[] c = new float[m * dim];
        for (int i = 0; i < c.length; i++) {
            c[i] = rng.nextInt(-2, 3);   // small integers: many exact ties, exact in float and double
        }
        System.arraycopy(c, 0, c, 7 * dim, dim); // a duplicate candidate row
        c[11 * dim] = Float.NaN;                 // a candidate whose every score is NaN
        float[] q = new float[n * dim];
        for (int i = 0; i < q.length; i++) {
            q[i] = rng.nextInt(-3, 4);
        }
        BruteForceTopK index = new BruteForceTopK(c, m, dim);
        for (int k : new int[]{1, 10, 299, 400}) {
            BruteForceTopK.Hits[] hits = index.search(q, n, k);
            for (int i = 0; i < n; i++) {
                assertArrayEquals(reference(q, i, c, m, dim, k), hits[i].rows(), "query " + i + ", k " + k);
            }
        }
        BruteForceTopK.Hits all = index.search(q, n, 400)[0];
        assertEquals(m - 1, all.rows().length, "every candidate but the NaN one");
    }

    @Test
    void blocksShrinkWithTheCatalogue() {
        assertEquals(1024, BruteForceTopK.blockRows(1682));
        assertEquals(16, BruteForceTopK.blockRows(1_000_000));
        assertEquals(1, BruteForceTopK.blockRows(100_000_000));
    }

    @Test
    void rejectsMismatchedShapes() {
        assertThrows(IllegalArgumentException.class, () -> new BruteForceTopK(new float[5], 2, 2));
        BruteForceTopK index = new BruteForceTopK(new float[4], 2, 2);
        assertThrows(IllegalArgumentException.class, () -> index.search(new float[3], 2, 1));
        assertThrows(IllegalArgumentException.class, () -> index.search(new float[4], 2, 0));
    }
}
