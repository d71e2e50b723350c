package io.deepretrieval.model.retrieval;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Dot-product scores of queries against every candidate, one matrix product per block of queries, handed to a
 * visitor row by row: the shared scoring of {@link BruteForceTopK} (which selects the best of each row) and of the
 * factorized top-K metric (which counts the candidates above the true one). The [block, m] score matrix and its
 * on-heap copy are allocated once and reused: a fresh product per block leaves dead native buffers for the GC (on
 * 10M ratings evaluation once peaked at 8 GB resident). Not thread-safe: one per search or tally.
 */
public final class BlockScores implements AutoCloseable {
    /** Receives query {@code query}'s scores: {@code scores[offset + j]} is candidate j's, j in 0..m-1. */
    @FunctionalInterface
    public interface RowVisitor {
        void visit(int query, float[] scores, int offset);
    }

    private final INDArray candidates;
    private final int m;
    private final int blockRows;
    private INDArray full;
    private INDArray partial;
    private float[] onHeap;

    /**
     * @param candidates [m, d] candidate embeddings (not copied, not closed)
     * @param blockRows  queries per block; {@code blockRows * m} must fit in an int
     */
    public BlockScores(INDArray candidates, int blockRows) {
        this.candidates = candidates;
        this.m = Math.toIntExact(candidates.rows());
        if (blockRows < 1 || (long) blockRows * m > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("blockRows must be >= 1 and keep blockRows x " + m
                    + " scores within an int array, got " + blockRows);
        }
        this.blockRows = blockRows;
    }

    /**
     * Queries per block against {@code m} candidates: as many as keep a block's {@code rows × m} scores within
     * {@code cap}, at most {@code maxRows}, and at least 1 (a single query's scores may exceed the cap).
     */
    public static int blockRows(long m, long cap, int maxRows) {
        if (m < 1) {
            return maxRows;
        }
        return (int) Math.max(1, Math.min(maxRows, cap / m));
    }

    /** Scores every row of {@code queries} ([n, d]) and hands each to {@code visitor}, in order. */
    public void forEach(INDArray queries, RowVisitor visitor) {
        long n = queries.rows();
        for (long from = 0; from < n; from += blockRows) {
            int b = (int) Math.min(blockRows, n - from);
            INDArray block = from == 0 && b == n ? queries : queries.get(NDArrayIndex.interval(from, from + b), NDArrayIndex.all());
            float[] s = score(block, b);
            for (int i = 0; i < b; i++) {
                visitor.visit((int) (from + i), s, i * m);
            }
        }
    }

    /** One block's scores, through the reused buffers: one of full height, one for the latest shorter block. */
    private float[] score(INDArray block, int rows) {
        INDArray target;
        if (rows == blockRows) {
            if (full == null) {
                full = Nd4j.create(DataType.FLOAT, rows, m);
            }
            target = full;
        } else {
            if (partial == null || partial.rows() != rows) {
                if (partial != null) {
                    partial.close();
                }
                partial = Nd4j.create(DataType.FLOAT, rows, m);
            }
            target = partial;
        }
        if (onHeap == null || onHeap.length < rows * m) {
            onHeap = new float[rows * m];
        }
        // Straight into the reused buffer: INDArray.mmuli with a 'c'-order result allocates a fresh 'f'-order
        // temporary of the whole [block, m] product per call and copies it over.
        Nd4j.gemm(block, candidates, target, false, true, 1.0, 0.0);
        target.data().asNioFloat().get(onHeap, 0, rows * m);
        return onHeap;
    }

    /** Frees the native score buffers now rather than at the next GC. */
    @Override
    public void close() {
        if (full != null) {
            full.close();
            full = null;
        }
        if (partial != null) {
            partial.close();
            partial = null;
        }
        onHeap = null;
    }
}
