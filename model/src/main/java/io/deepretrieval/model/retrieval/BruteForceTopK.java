package io.deepretrieval.model.retrieval;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.PriorityQueue;

/**
 * Exact top-k retrieval by dot product over a fixed candidate matrix (TFRS's {@code BruteForce}): one matrix product
 * per block of queries, then a bounded selection per query. Ties are broken by the lower candidate row (callers
 * order candidates by id, so ties go to the lower id); a NaN score is never selected.
 */
public final class BruteForceTopK {
    /** Scores held at once per block: rows per block shrink as the catalogue grows. */
    static final long BLOCK_SCORES = 1L << 24;
    private final INDArray candidates;
    private final int m;
    private final int dim;

    /** @param candidates row-major [m, dim] candidate embeddings */
    public BruteForceTopK(float[] candidates, int m, int dim) {
        if ((long) m * dim != candidates.length) {
            throw new IllegalArgumentException("candidate matrix holds " + candidates.length + " values, not " + m + " x " + dim);
        }
        this.candidates = Nd4j.create(candidates, new long[]{m, dim}, 'c');
        this.m = m;
        this.dim = dim;
    }

    public int size() {
        return m;
    }

    /** One query's best candidates, best first. */
    public record Hits(int[] rows, float[] scores) {
    }

    /** Rows of queries per block for {@code m} candidates. */
    static int blockRows(int m) {
        return (int) Math.max(1, Math.min(1024, BLOCK_SCORES / Math.max(1, m)));
    }

    /** The {@code k} best candidates of each of the {@code n} row-major queries ({@code n x dim}). */
    public Hits[] search(float[] queries, int n, int k) {
        if ((long) n * dim != queries.length) {
            throw new IllegalArgumentException("query matrix holds " + queries.length + " values, not " + n + " x " + dim);
        }
        if (k < 1) {
            throw new IllegalArgumentException("k must be >= 1, got " + k);
        }
        Hits[] out = new Hits[n];
        int rows = Math.min(blockRows(m), Math.max(1, n));
        // One query matrix and one score buffer (with its heap copy) per search, reused by every full block: a
        // fresh [block, m] product per block leaves dead native buffers for the GC (see FactorizedTopK).
        INDArray all = Nd4j.create(queries, new long[]{n, dim}, 'c');
        INDArray scores = Nd4j.create(DataType.FLOAT, rows, m);
        float[] s = new float[rows * m];
        try {
            for (int from = 0; from < n; from += rows) {
                int b = Math.min(rows, n - from);
                INDArray target = b == rows ? scores : Nd4j.create(DataType.FLOAT, b, m);
                Nd4j.gemm(all.get(NDArrayIndex.interval(from, from + b), NDArrayIndex.all()), candidates, target,
                        false, true, 1.0, 0.0);
                target.data().asNioFloat().get(s, 0, b * m);
                if (target != scores) {
                    target.close();
                }
                for (int i = 0; i < b; i++) {
                    out[from + i] = select(s, (long) i * m, k);
                }
            }
        } finally {
            all.close();
            scores.close();
        }
        return out;
    }

    /** The k best of scores[offset, offset + m): a min-heap of the best so far, worst at its head. */
    private Hits select(float[] s, long offset, int k) {
        // Worse = lower score, or the same score on a higher row.
        PriorityQueue<Integer> heap = new PriorityQueue<>(Math.min(k, m) + 1, (a, b) -> {
            int c = Float.compare(s[(int) (offset + a)], s[(int) (offset + b)]);
            return c != 0 ? c : Integer.compare(b, a);
        });
        for (int j = 0; j < m; j++) {
            float v = s[(int) (offset + j)];
            if (Float.isNaN(v)) {
                continue;
            }
            if (heap.size() < k) {
                heap.add(j);
            } else {
                int worst = heap.peek();
                float w = s[(int) (offset + worst)];
                if (v > w || (v == w && j < worst)) {
                    heap.poll();
                    heap.add(j);
                }
            }
        }
        int size = heap.size();
        int[] rows = new int[size];
        float[] scores = new float[size];
        for (int i = size - 1; i >= 0; i--) {
            int r = heap.poll();
            rows[i] = r;
            scores[i] = s[(int) (offset + r)];
        }
        return new Hits(rows, scores);
    }
}
