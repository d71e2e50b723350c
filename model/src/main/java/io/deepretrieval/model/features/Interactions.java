package io.deepretrieval.model.features;

/**
 * Encoded (query, candidate) pairs in columns: the model's inputs for a set of ratings.
 * The candidate side is a record index into the {@link CandidateCorpus}.
 */
public record Interactions(int[] userIndex, int[] timestampBucket, float[] normalizedTimestamp, int[] candidate)
        implements java.io.Serializable {

    public Interactions {
        int n = userIndex.length;
        if (timestampBucket.length != n || normalizedTimestamp.length != n || candidate.length != n) {
            throw new IllegalArgumentException("interaction columns differ in length");
        }
    }

    public int size() {
        return userIndex.length;
    }

    /** Rows {@code from..to} (exclusive) of a permutation, as a new column set. */
    public Interactions select(int[] order, int from, int to) {
        int n = to - from;
        int[] u = new int[n];
        int[] b = new int[n];
        float[] t = new float[n];
        int[] c = new int[n];
        for (int i = 0; i < n; i++) {
            int r = order == null ? from + i : order[from + i];
            u[i] = userIndex[r];
            b[i] = timestampBucket[r];
            t[i] = normalizedTimestamp[r];
            c[i] = candidate[r];
        }
        return new Interactions(u, b, t, c);
    }
}
