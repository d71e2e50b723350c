package io.deepretrieval.model.metrics;

import io.deepretrieval.model.retrieval.BlockScores;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Factorized top-K accuracy (TFRS {@code metrics.FactorizedTopK}): each query is scored against every candidate by
 * dot product; it is a hit at K when fewer than K candidates score strictly higher than its true candidate
 * (so ties with the true candidate count in its favour). One matrix product per block of queries plus a counting
 * pass; no sort. The blockwise scoring is {@link BlockScores}, shared with the exact top-k index; the metric does not
 * go through top-k selection, since counting the true candidate's rank is all it needs.
 *
 * <p>Broken scores never help the model: a query whose true candidate's score is not finite (NaN or ±infinity,
 * e.g. from a NaN in the query's or the candidate's embedding) is a miss at every K, and a NaN score of any other
 * candidate counts as scoring higher than the true candidate's. (Plain {@code s > truth} comparisons would count a
 * NaN truth as a hit at every K, since nothing compares greater than NaN.) Infinite scores of other candidates
 * compare as numbers: +∞ scores higher than a finite truth, −∞ does not.
 *
 * <p>Queries are scored in blocks of at most 2,048 rows, fewer when there are many candidates, so that a block's
 * score matrix stays within 64M floats and int indices into it cannot overflow: blocks shrink above 32,768
 * candidates and are single queries above 2^25.
 */
public final class FactorizedTopK {
    /** Most queries scored in one block. */
    static final int MAX_BLOCK_ROWS = 2048;
    /**
     * Most scores (floats) in one block's score matrix: 64M, i.e. 256 MB native plus its 256 MB on-heap copy.
     * 11,000 candidates still get full blocks of 2,048 queries (22.5M scores).
     */
    static final long DEFAULT_BLOCK_CAP = 1L << 26;
    private final int[] ks;
    private final long blockCap;

    public FactorizedTopK(int... ks) {
        this(DEFAULT_BLOCK_CAP, ks);
    }

    /** With a block cap of {@code blockCap} scores (see {@link #blockRows}); tests use small ones. */
    FactorizedTopK(long blockCap, int... ks) {
        if (blockCap < 1 || blockCap > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("block cap must be in 1.." + (Integer.MAX_VALUE - 8) + ", got " + blockCap);
        }
        this.blockCap = blockCap;
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

    /**
     * Queries per block against {@code m} candidates: as many as keep the block's {@code rows × m} scores within
     * {@code cap}, at most {@value #MAX_BLOCK_ROWS}, and at least 1 (a single query's scores may exceed the cap).
     */
    static int blockRows(long m, long cap) {
        return BlockScores.blockRows(m, cap, MAX_BLOCK_ROWS);
    }

    /** The K values this metric reports. */
    public int[] ks() {
        return ks.clone();
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
        try (Tally tally = tally(candidates)) {
            tally.add(queries, positives);
            return tally.result();
        }
    }

    /** Accuracy per K from hit counts (in {@link #ks()} order) over {@code queries} queries; no queries: 0. */
    public TopKAccuracy accuracy(long[] hits, long queries) {
        if (hits.length != ks.length) {
            throw new IllegalArgumentException(hits.length + " hit counts for " + ks.length + " Ks");
        }
        double[] acc = new double[ks.length];
        for (int k = 0; k < ks.length; k++) {
            acc[k] = queries == 0 ? 0 : (double) hits[k] / queries;
        }
        return new TopKAccuracy(ks, acc);
    }

    /** A running count against {@code candidates} ([m, d]), fed block by block so queries need not all be held. */
    public Tally tally(INDArray candidates) {
        return new Tally(candidates);
    }

    /**
     * Hit counts per K over the query blocks added so far. Scoring is {@link BlockScores}, the same blockwise
     * matrix products as the exact top-k index ({@link io.deepretrieval.model.retrieval.BruteForceTopK}); only what
     * is done with a row differs: this counts how many candidates score above the true one instead of selecting the
     * top k, which needs no heap and no sort. Its native score buffers live until {@link #close()}.
     */
    public final class Tally implements AutoCloseable {
        private final int m;
        private final BlockScores scores;
        private final long[] hits = new long[ks.length];
        private long queries;

        private Tally(INDArray candidates) {
            this.m = Math.toIntExact(candidates.rows());
            this.scores = new BlockScores(candidates, blockRows(m, blockCap));
        }

        /** Counts the hits of {@code queries} ([n, d]) whose true candidates are the rows {@code positives}. */
        public void add(INDArray queries, int[] positives) {
            long n = queries.rows();
            if (positives.length != n) {
                throw new IllegalArgumentException(n + " queries but " + positives.length + " positives");
            }
            scores.forEach(queries, (i, s, offset) -> count(s, offset, positives[i]));
            this.queries += n;
        }

        private void count(float[] s, int rowStart, int p) {
            if (p < 0 || p >= m) {
                throw new IllegalArgumentException("positive " + p + " outside 0.." + (m - 1));
            }
            float truth = s[rowStart + p];
            if (!Float.isFinite(truth)) {
                return; // a miss at every K (see the class comment)
            }
            int higher = 0;
            for (int j = rowStart, end = rowStart + m; j < end; j++) {
                // !(s[j] <= truth): strictly higher, or NaN
                if (!(s[j] <= truth)) {
                    higher++;
                }
            }
            for (int k = 0; k < ks.length; k++) {
                if (higher < ks[k]) {
                    hits[k]++;
                }
            }
        }

        public TopKAccuracy result() {
            return accuracy(hits, queries);
        }

        /** Hits so far per K (in {@link #ks()} order), so that tallies of several machines can be summed. */
        public long[] hits() {
            return hits.clone();
        }

        /** Queries counted so far. */
        public long queries() {
            return queries;
        }

        /** Frees the native score buffers (not the candidates, which the caller owns); the counts stay readable. */
        @Override
        public void close() {
            scores.close();
        }
    }
}
