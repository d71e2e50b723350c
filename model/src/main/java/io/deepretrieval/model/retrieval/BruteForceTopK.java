package io.deepretrieval.model.retrieval;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.PriorityQueue;

/**
 * Exact top-k retrieval by dot product over a fixed candidate matrix (TFRS's {@code BruteForce}): one matrix product
 * per block of queries ({@link BlockScores}), then a bounded selection per query. Ties are broken by the lower
 * candidate row (callers order candidates by id, so ties go to the lower id); a NaN score is never selected, so a NaN
 * never outranks a finite score; excluded rows are scored and then set to NaN.
 */
public final class BruteForceTopK implements TopK {
    /** Scores held at once per block: rows per block shrink as the catalogue grows. */
    static final long BLOCK_SCORES = 1L << 24;
    /** Most queries per block. */
    static final int MAX_BLOCK_ROWS = 1024;
    /**
     * Catalogues of up to this many values also keep a heap copy, so that one query is scored in plain Java: a
     * one-row native product costs more in call overhead and short-lived objects than its ~m x dim multiply-adds
     * (measured in serving: ~100 KB of garbage a request, and young pauses of 25-37 ms every second at 2,800
     * requests/s). 4M values: 16 MB, a 125,000-item catalogue at width 32.
     */
    static final long HEAP_COPY_VALUES = 1L << 22;
    private final INDArray candidates;
    /** The candidates on the heap, row-major, or null above {@link #HEAP_COPY_VALUES}. */
    private final float[] heapCopy;
    /** Each thread's score buffer for {@link #searchOne}. */
    private final ThreadLocal<float[]> scoreBuffer;
    private final int m;
    private final int dim;

    /** @param candidates row-major [m, dim] candidate embeddings (copied) */
    public BruteForceTopK(float[] candidates, int m, int dim) {
        if (m < 0 || dim < 1 || (long) m * dim != candidates.length) {
            throw new IllegalArgumentException("candidate matrix holds " + candidates.length + " values, not " + m + " x " + dim);
        }
        this.candidates = Nd4j.create(candidates, new long[]{m, dim}, 'c');
        this.heapCopy = candidates.length <= HEAP_COPY_VALUES ? candidates.clone() : null;
        this.scoreBuffer = ThreadLocal.withInitial(() -> new float[m]);
        this.m = m;
        this.dim = dim;
    }

    @Override
    public int size() {
        return m;
    }

    @Override
    public int dim() {
        return dim;
    }

    @Override
    public String kind() {
        return "exact";
    }

    /** Rows of queries per block for {@code m} candidates. */
    static int blockRows(int m) {
        return BlockScores.blockRows(m, BLOCK_SCORES, MAX_BLOCK_ROWS);
    }

    @Override
    public Hits[] search(float[] queries, int n, int k, int[][] exclude) {
        TopK.checkArguments(this, queries, n, k, exclude);
        Hits[] out = new Hits[n];
        if (n == 0) {
            return out;
        }
        INDArray all = Nd4j.create(queries, new long[]{n, dim}, 'c');
        try (BlockScores scores = new BlockScores(candidates, Math.min(blockRows(m), n))) {
            scores.forEach(all, (i, s, offset) -> {
                if (exclude != null && exclude[i] != null) {
                    for (int row : exclude[i]) {
                        s[offset + row] = Float.NaN;
                    }
                }
                out[i] = select(s, offset, k);
            });
        } finally {
            all.close();
        }
        return out;
    }

    /**
     * One query: with the heap copy, scored here in float (each dot product summed in dimension order) into a
     * reused per-thread buffer, then selected as {@link #search} selects; otherwise as one row of {@link #search}.
     * The scores may differ from the native product's in the last bit (another summation order).
     */
    @Override
    public Hits searchOne(float[] query, int k, int... exclude) {
        if (heapCopy == null) {
            return search(query, 1, k, new int[][]{exclude})[0];
        }
        TopK.checkArguments(this, query, 1, k, new int[][]{exclude});
        float[] s = scoreBuffer.get();
        for (int j = 0, at = 0; j < m; j++, at += dim) {
            float dot = 0;
            for (int d = 0; d < dim; d++) {
                dot += query[d] * heapCopy[at + d];
            }
            s[j] = dot;
        }
        if (exclude != null) {
            for (int row : exclude) {
                s[row] = Float.NaN;
            }
        }
        return select(s, 0, k);
    }

    /** The k best of scores[offset, offset + m): a min-heap of the best so far, worst at its head. */
    private Hits select(float[] s, int offset, int k) {
        // Worse = lower score, or the same score on a higher row.
        PriorityQueue<Integer> heap = new PriorityQueue<>(Math.min(k, m) + 1, (a, b) -> {
            int c = Float.compare(s[offset + a], s[offset + b]);
            return c != 0 ? c : Integer.compare(b, a);
        });
        float worstScore = Float.NEGATIVE_INFINITY;
        int worstRow = -1;
        for (int j = 0; j < m; j++) {
            float v = s[offset + j];
            if (Float.isNaN(v)) {
                continue;
            }
            if (heap.size() < k) {
                heap.add(j);
                if (heap.size() == k) {
                    worstRow = heap.peek();
                    worstScore = s[offset + worstRow];
                }
            } else if (v > worstScore || (v == worstScore && j < worstRow)) {
                heap.poll();
                heap.add(j);
                worstRow = heap.peek();
                worstScore = s[offset + worstRow];
            }
        }
        int size = heap.size();
        int[] rows = new int[size];
        float[] scores = new float[size];
        for (int i = size - 1; i >= 0; i--) {
            int r = heap.poll();
            rows[i] = r;
            scores[i] = s[offset + r];
        }
        return new Hits(rows, scores);
    }

    @Override
    public void close() {
        candidates.close();
    }
}
