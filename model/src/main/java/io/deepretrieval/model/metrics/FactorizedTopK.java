package io.deepretrieval.model.metrics;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Factorized top-K accuracy (TFRS {@code metrics.FactorizedTopK}): each query is scored against every candidate by
 * dot product; it is a hit at K when fewer than K candidates score strictly higher than its true candidate
 * (so ties with the true candidate count in its favour). One matrix product per block of queries plus a counting
 * pass; no sort.
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
        if (m < 1) {
            return MAX_BLOCK_ROWS;
        }
        return (int) Math.max(1, Math.min(MAX_BLOCK_ROWS, cap / m));
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
        Tally tally = tally(candidates);
        tally.add(queries, positives);
        return tally.result();
    }

    /** A running count against {@code candidates} ([m, d]), fed block by block so queries need not all be held. */
    public Tally tally(INDArray candidates) {
        return new Tally(candidates);
    }

    /**
     * Hit counts per K over the query blocks added so far. The [block, m] score matrix ({@link #blockRows} rows)
     * and its on-heap copy are allocated once and reused: a fresh 90 MB product per block (2,048 queries × 11,000
     * movies) left hundreds of dead native buffers waiting for a GC, and evaluation on 10M ratings peaked at 8 GB
     * resident.
     */
    public final class Tally {
        private final INDArray candidates;
        private final int m;
        private final int blockRows;
        private final long[] hits = new long[ks.length];
        private long queries;
        private INDArray scores;
        private float[] scoresOnHeap;

        private Tally(INDArray candidates) {
            this.m = Math.toIntExact(candidates.rows());
            this.blockRows = blockRows(m, blockCap);
            this.candidates = candidates;
        }

        /** Scores of {@code block} against every candidate, in the reused buffers; returns the on-heap copy. */
        private float[] score(INDArray block) {
            int rows = (int) block.rows();
            // rows <= blockRows keeps rows * m within the cap (or, for one row, m itself): an int array length.
            int size = Math.toIntExact((long) rows * m);
            if (scores == null || scores.rows() != rows) {
                scores = Nd4j.create(DataType.FLOAT, rows, m);
                scoresOnHeap = new float[size];
            }
            // Straight into the reused buffer: INDArray.mmuli with a 'c'-order result allocates a fresh 'f'-order
            // temporary of the whole [block, m] product per call and copies it over, which on 11,000 movies put
            // 90 MB of garbage per block into native memory (10M ratings: resident memory climbing to 5.7 GB in
            // one evaluation pass) and took most of the pass's time.
            Nd4j.gemm(block, candidates, scores, false, true, 1.0, 0.0);
            scores.data().asNioFloat().get(scoresOnHeap, 0, size);
            return scoresOnHeap;
        }

        /** Counts the hits of {@code queries} ([n, d]) whose true candidates are the rows {@code positives}. */
        public void add(INDArray queries, int[] positives) {
            long n = queries.rows();
            if (positives.length != n) {
                throw new IllegalArgumentException(n + " queries but " + positives.length + " positives");
            }
            for (long from = 0; from < n; from += blockRows) {
                long to = Math.min(n, from + blockRows);
                float[] s = score(queries.get(NDArrayIndex.interval(from, to), NDArrayIndex.all()));
                for (int i = 0; i < to - from; i++) {
                    count(s, Math.toIntExact((long) i * m), positives[(int) (from + i)]);
                }
            }
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
            double[] acc = new double[ks.length];
            for (int k = 0; k < ks.length; k++) {
                acc[k] = queries == 0 ? 0 : (double) hits[k] / queries;
            }
            return new TopKAccuracy(ks, acc);
        }
    }
}
