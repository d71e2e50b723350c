package io.deepretrieval.model.retrieval;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The exact index's per-query exclusions and argument checks, against an independent full sort. */
class TopKTest {
    @Test
    void exclusionsArePerQueryAndEqualAFullSortWithoutThem() {
        SplittableRandom rng = new SplittableRandom(5);
        int m = 500, dim = 3, n = 40;
        float[] c = new float[m * dim];
        for (int i = 0; i < c.length; i++) {
            c[i] = rng.nextInt(-2, 3); // exact ties in float and double
        }
        c[4 * dim + 1] = Float.NaN; // a NaN candidate never outranks a finite one
        float[] q = new float[n * dim];
        for (int i = 0; i < q.length; i++) {
            q[i] = rng.nextInt(-3, 4);
        }
        int[][] exclude = new int[n][];
        for (int i = 0; i < n; i++) {
            exclude[i] = i % 5 == 0 ? null : rng.ints(i % 7 * 3, 0, m).toArray(); // some with none, some with repeats
        }
        try (BruteForceTopK index = new BruteForceTopK(c, m, dim)) {
            for (int k : new int[]{1, 10, 600}) {
                TopK.Hits[] hits = index.search(q, n, k, exclude);
                for (int i = 0; i < n; i++) {
                    assertArrayEquals(BruteForceTopKTest.reference(q, i, c, m, dim, k, exclude[i]), hits[i].rows(), "query " + i + ", k " + k);
                }
            }
            // searchOne is the same search for a single query.
            int[] top = index.searchOne(Arrays.copyOfRange(q, 0, dim), 10, 1, 2, 3).rows();
            assertArrayEquals(BruteForceTopKTest.reference(q, 0, c, m, dim, 10, new int[]{1, 2, 3}), top);
        }
    }

    @Test
    void aNaNQueryHasNoHitsAndAnExcludedBestIsReplaced() {
        float[] c = {3, 0, 2, 0, 1, 0};
        try (BruteForceTopK index = new BruteForceTopK(c, 3, 2)) {
            assertEquals(0, index.searchOne(new float[]{Float.NaN, 1}, 2).rows().length);
            TopK.Hits h = index.searchOne(new float[]{1, 0}, 2, 0);
            assertArrayEquals(new int[]{1, 2}, h.rows());
            assertArrayEquals(new float[]{2, 1}, h.scores());
        }
    }

    @Test
    void badArgumentsNameTheParameter() {
        try (BruteForceTopK index = new BruteForceTopK(new float[6], 3, 2)) {
            assertMessage("k must be >= 1", () -> index.search(new float[2], 1, 0));
            assertMessage("not 1 x 2", () -> index.search(new float[3], 1, 1));
            assertMessage("exclude has 2 lists for 1 queries", () -> index.search(new float[2], 1, 1, new int[2][]));
            assertMessage("exclude: row 3 of query 0 outside 0..2", () -> index.searchOne(new float[2], 1, 3));
            assertMessage("exclude: row -1", () -> index.searchOne(new float[2], 1, -1));
        }
    }

    static void assertMessage(String part, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(part), "message '" + e.getMessage() + "' should contain '" + part + "'");
    }
}
