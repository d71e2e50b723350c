package io.deepretrieval.model.retrieval;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static io.deepretrieval.model.retrieval.TopKTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Lucene HNSW against the exact index on clustered, unnormalised vectors (maximum inner product). */
class HnswTopKTest {
    private static final int M = 20_000;
    private static final int DIM = 32;
    private static final int QUERIES = 200;

    @TempDir
    Path dir;

    @Test
    void recallAgainstBruteForceIsHighAndScoresAreDotProducts() throws IOException {
        float[] c = ClusteredVectors.make(M, DIM, 1000, 0.2, 1);
        float[] q = ClusteredVectors.make(QUERIES, DIM, 1000, 0.2, 2);
        try (BruteForceTopK exact = new BruteForceTopK(c, M, DIM);
             HnswTopK hnsw = HnswTopK.build(c, M, DIM, new HnswTopK.Params(16, 100, 200), null)) {
            assertEquals(M, hnsw.size());
            assertEquals("hnsw", hnsw.kind());
            for (int k : new int[]{10, 100}) {
                TopK.Hits[] e = exact.search(q, QUERIES, k);
                TopK.Hits[] a = hnsw.search(q, QUERIES, k);
                double r = Recall.at(k, e, a);
                System.out.println("HnswTopKTest: recall@" + k + " = " + r);
                assertTrue(r >= 0.9, "recall@" + k + " " + r);
                for (int i = 0; i < QUERIES; i++) {
                    assertEquals(k, a[i].rows().length);
                    for (int j = 0; j < k; j++) {
                        int row = a[i].rows()[j];
                        double dot = 0;
                        for (int d = 0; d < DIM; d++) {
                            dot += (double) q[i * DIM + d] * c[row * DIM + d];
                        }
                        assertEquals(dot, a[i].scores()[j], 1e-5 * Math.max(1, Math.abs(dot)), "query " + i + " hit " + j);
                        if (j > 0) {
                            assertTrue(a[i].scores()[j - 1] >= a[i].scores()[j], "best first");
                        }
                    }
                }
            }
        }
    }

    @Test
    void exclusionsAreHonouredAndTheNextBestMoveUp() throws IOException {
        float[] c = ClusteredVectors.make(3000, 8, 100, 0.2, 3);
        float[] q = ClusteredVectors.make(20, 8, 100, 0.2, 4);
        try (HnswTopK hnsw = HnswTopK.build(c, 3000, 8, new HnswTopK.Params(16, 100, 200), null)) {
            for (int i = 0; i < 20; i++) {
                float[] one = Arrays.copyOfRange(q, i * 8, (i + 1) * 8);
                int[] top = hnsw.searchOne(one, 20).rows();
                int[] leaveOut = Arrays.copyOf(top, 5);
                int[] after = hnsw.searchOne(one, 15, leaveOut).rows();
                assertEquals(15, after.length);
                for (int r : after) {
                    assertFalse(Arrays.stream(leaveOut).anyMatch(x -> x == r), "query " + i + ": excluded row " + r + " returned");
                }
                // On 3,000 points with a beam of 200 the graph finds the exact next 15.
                assertArrayEquals(Arrays.copyOfRange(top, 5, 20), after, "query " + i);
            }
        }
    }

    @Test
    void aSavedGraphReopensOnlyForTheSameCandidatesAndParameters() throws IOException {
        float[] c = ClusteredVectors.make(2000, 16, 100, 0.2, 5);
        float[] q = ClusteredVectors.make(5, 16, 100, 0.2, 6);
        HnswTopK.Params p = new HnswTopK.Params(8, 50, 64);
        Path saved = dir.resolve("hnsw");
        int[] before;
        try (HnswTopK built = HnswTopK.build(c, 2000, 16, p, saved)) {
            before = built.search(q, 5, 10)[3].rows();
        }
        String fp = HnswTopK.fingerprint(c);
        try (HnswTopK reopened = HnswTopK.open(saved, p, fp)) {
            assertNotNull(reopened);
            assertEquals(2000, reopened.size());
            assertEquals(16, reopened.dim());
            assertArrayEquals(before, reopened.search(q, 5, 10)[3].rows());
        }
        float[] changed = c.clone();
        changed[17] += 1;
        assertNull(HnswTopK.open(saved, p, HnswTopK.fingerprint(changed)), "other embeddings");
        assertNull(HnswTopK.open(saved, new HnswTopK.Params(16, 50, 64), fp), "other m");
        assertNull(HnswTopK.open(dir.resolve("nothing-here"), p, fp));
        IOException notEmpty = assertThrows(IOException.class, () -> HnswTopK.build(c, 2000, 16, p, saved));
        assertTrue(notEmpty.getMessage().contains("not empty"));
        assertTrue(Files.isDirectory(saved));
    }

    @Test
    void badArgumentsGiveClearErrors() throws IOException {
        assertMessage("HNSW m must be in 2..512", () -> new HnswTopK.Params(1, 100, 100));
        assertMessage("HNSW beamWidth", () -> new HnswTopK.Params(16, 0, 100));
        assertMessage("HNSW efSearch must be >= 1", () -> new HnswTopK.Params(16, 100, 0));
        assertMessage("not 3 x 2", () -> HnswTopK.build(new float[5], 3, 2, HnswTopK.Params.defaults(), null));
        float[] nan = {1, 2, Float.NaN, 4};
        assertMessage("candidate row 1 has a non-finite value", () -> HnswTopK.build(nan, 2, 2, HnswTopK.Params.defaults(), null));
        try (HnswTopK hnsw = HnswTopK.build(new float[]{1, 0, 0, 1, 1, 1}, 3, 2, HnswTopK.Params.defaults(), null)) {
            assertMessage("k must be >= 1", () -> hnsw.searchOne(new float[2], 0));
            assertMessage("exclude: row 3 of query 0 outside 0..2", () -> hnsw.searchOne(new float[2], 1, 3));
            assertMessage("not 1 x 2", () -> hnsw.search(new float[3], 1, 1));
            assertEquals(0, hnsw.searchOne(new float[]{Float.NaN, 0}, 2).rows().length);
            // k above the catalogue: every candidate, best first.
            assertArrayEquals(new int[]{2, 0, 1}, hnsw.searchOne(new float[]{1, 0.5f}, 10).rows());
        }
    }
}
