package io.deepretrieval.model.train;

import java.util.SplittableRandom;

/** The order of training rows in an epoch: a seeded permutation that depends only on (seed, epoch). */
public final class EpochShuffle {
    private EpochShuffle() {
    }

    /** Deriving each epoch's order from (seed, epoch) makes a resumed run shuffle exactly like an uninterrupted one. */
    public static int[] order(int n, long seed, int epoch) {
        SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch);
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }
}
