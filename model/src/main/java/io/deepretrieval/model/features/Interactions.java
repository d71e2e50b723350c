package io.deepretrieval.model.features;

/**
 * Encoded (query, candidate) pairs: the query tower's inputs per interaction and, per interaction, the record index
 * of its candidate in the {@link CandidateCorpus}.
 */
public record Interactions(FeatureColumns query, int[] candidate) implements java.io.Serializable {

    public Interactions {
        if (query.rows() != candidate.length) {
            throw new IllegalArgumentException("interaction columns differ in length: " + query.rows()
                    + " query rows, " + candidate.length + " candidates");
        }
    }

    /** No interactions, for a spec's query features. */
    public static Interactions none(FeatureSpec spec) {
        return new Interactions(FeatureColumns.encode(spec.query(), 0, (r, f) -> null), new int[0]);
    }

    /** The rows of several parts, in order. */
    public static Interactions concat(FeatureSpec spec, java.util.List<Interactions> parts) {
        if (parts.isEmpty()) {
            return none(spec);
        }
        int[] c = parts.stream().flatMapToInt(p -> java.util.Arrays.stream(p.candidate)).toArray();
        return new Interactions(FeatureColumns.concat(parts.stream().map(Interactions::query).toList()), c);
    }

    public int size() {
        return candidate.length;
    }

    /** Rows {@code from..to} (exclusive) of a permutation (or in order when {@code order} is null), as new columns. */
    public Interactions select(int[] order, int from, int to) {
        int[] c = new int[to - from];
        for (int i = 0; i < c.length; i++) {
            c[i] = candidate[order == null ? from + i : order[from + i]];
        }
        return new Interactions(query.select(order, from, to), c);
    }
}
