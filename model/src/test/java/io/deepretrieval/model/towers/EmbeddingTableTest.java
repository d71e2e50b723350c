package io.deepretrieval.model.towers;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class EmbeddingTableTest {
    @Test
    void aTableTooLargeForOneArrayIsRejectedNotWrapped() {
        // 2^26 rows x 64 = 2^32 values: as an int product that is 0, which an empty array used to match.
        assertEquals(0, (1 << 26) * 64);
        assertThrows(IllegalArgumentException.class, () -> new EmbeddingTable("t", 1 << 26, 64, new float[0], 0.1f));
        assertThrows(ArithmeticException.class, () -> KerasInit.embedding(new SplittableRandom(1), 1 << 26, 64));
        assertThrows(ArithmeticException.class, () -> KerasInit.embedding(new SplittableRandom(1), 70_000_000, 32));
    }

    @Test
    void lookupAndWeightedSumStillReadTheRows() {
        EmbeddingTable t = new EmbeddingTable("t", 3, 2, new float[]{1, 2, 3, 4, 5, 6}, 0.1f);
        assertArrayEquals(new float[]{5, 6, 1, 2}, t.lookup(new int[]{2, 0}).data().asFloat(), 0);
        assertArrayEquals(new float[]{2, 3}, t.weightedSum(new int[]{0, 1}, new float[]{0.5f, 0.5f}, 2).data().asFloat(), 0);
    }
}
