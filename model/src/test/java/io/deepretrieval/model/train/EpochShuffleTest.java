package io.deepretrieval.model.train;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class EpochShuffleTest {
    @Test
    void aPermutationThatDependsOnlyOnSeedAndEpoch() {
        int[] a = EpochShuffle.order(1000, 42, 3);
        assertArrayEquals(a, EpochShuffle.order(1000, 42, 3));
        assertFalse(Arrays.equals(a, EpochShuffle.order(1000, 42, 4)));
        assertFalse(Arrays.equals(a, EpochShuffle.order(1000, 43, 3)));
        int[] sorted = a.clone();
        Arrays.sort(sorted);
        int[] identity = new int[1000];
        Arrays.setAll(identity, i -> i);
        assertArrayEquals(identity, sorted);
    }
}
