package io.deepretrieval.model.retrieval;

/**
 * Top-k retrieval by dot product over a fixed set of candidates, addressed by row (0 .. size-1, in the order they
 * were indexed; callers keep the row-to-id map). One interface, several indexes behind it, as TFRS's
 * {@code layers/factorized_top_k.py}: {@link BruteForceTopK} (exact) and {@link HnswTopK} (approximate).
 * Implementations are safe for concurrent searches.
 */
public interface TopK extends AutoCloseable {
    /** One query's best candidates, best first, with their dot-product scores. */
    record Hits(int[] rows, float[] scores) {
    }

    /** How many candidates are indexed. */
    int size();

    /** Embedding width of candidates and queries. */
    int dim();

    /** A short name of the kind of index ({@code exact}, {@code hnsw}), for reports and /metadata. */
    String kind();

    /**
     * The {@code k} best candidates of each of the {@code n} row-major queries ({@code n x dim}), leaving out for
     * query {@code i} the rows {@code exclude[i]} ({@code exclude} or any {@code exclude[i]} may be null: none).
     * Fewer than {@code k} hits come back when fewer candidates are left; a NaN score is never a hit.
     */
    Hits[] search(float[] queries, int n, int k, int[][] exclude);

    /** {@link #search(float[], int, int, int[][])} without exclusions. */
    default Hits[] search(float[] queries, int n, int k) {
        return search(queries, n, k, null);
    }

    /** One query's {@code k} best candidates, leaving out the rows {@code exclude}. */
    default Hits searchOne(float[] query, int k, int... exclude) {
        return search(query, 1, k, new int[][]{exclude})[0];
    }

    /** Releases native or file resources; the default holds none. */
    @Override
    default void close() {
    }

    /** Checks a search's arguments against an index, naming the one that is wrong. */
    static void checkArguments(TopK index, float[] queries, int n, int k, int[][] exclude) {
        if (n < 0) {
            throw new IllegalArgumentException("n (queries) must be >= 0, got " + n);
        }
        if (queries == null || (long) n * index.dim() != queries.length) {
            throw new IllegalArgumentException("query matrix holds " + (queries == null ? 0 : queries.length)
                    + " values, not " + n + " x " + index.dim());
        }
        if (k < 1) {
            throw new IllegalArgumentException("k must be >= 1, got " + k);
        }
        if (exclude == null) {
            return;
        }
        if (exclude.length != n) {
            throw new IllegalArgumentException("exclude has " + exclude.length + " lists for " + n + " queries");
        }
        for (int i = 0; i < n; i++) {
            if (exclude[i] == null) {
                continue;
            }
            for (int row : exclude[i]) {
                if (row < 0 || row >= index.size()) {
                    throw new IllegalArgumentException("exclude: row " + row + " of query " + i + " outside 0.."
                            + (index.size() - 1));
                }
            }
        }
    }
}
