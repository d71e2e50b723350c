package io.deepretrieval.model.features;

import java.util.Arrays;
import java.util.List;

/**
 * Every candidate movie record, encoded: its title index and its title's token ids, padded to a fixed length.
 * Candidate records are addressed by position (0..size-1); the metric ranks against all of them.
 */
public final class CandidateCorpus implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private final String[] movieIds;
    private final String[] titles;
    private final int[] titleIndex;
    private final int[] tokenIds;     // size * maxTokens, row-major, 0 = padding
    private final float[] tokenWeights; // 1/count on real tokens, 0 on padding: the masked mean's weights
    private final int maxTokens;

    private CandidateCorpus(String[] movieIds, String[] titles, int[] titleIndex, int[] tokenIds,
                            float[] tokenWeights, int maxTokens) {
        this.movieIds = movieIds;
        this.titles = titles;
        this.titleIndex = titleIndex;
        this.tokenIds = tokenIds;
        this.tokenWeights = tokenWeights;
        this.maxTokens = maxTokens;
    }

    /** Encodes movie records (parallel lists of ids and titles) with a fitted spec. */
    public static CandidateCorpus encode(FeatureSpec spec, List<String> movieIds, List<String> titles) {
        if (movieIds.size() != titles.size()) {
            throw new IllegalArgumentException("movie ids and titles differ in length");
        }
        int n = titles.size();
        int len = spec.maxTitleTokens();
        int[] titleIndex = new int[n];
        int[] tokens = new int[n * len];
        float[] weights = new float[n * len];
        for (int i = 0; i < n; i++) {
            titleIndex[i] = spec.titleIndex(titles.get(i));
            int[] ids = spec.titleTokenIds(titles.get(i));
            for (int t = 0; t < ids.length; t++) {
                tokens[i * len + t] = ids[t];
                weights[i * len + t] = 1f / ids.length;
            }
        }
        return new CandidateCorpus(movieIds.toArray(String[]::new), titles.toArray(String[]::new),
                titleIndex, tokens, weights, len);
    }

    public int size() {
        return titles.length;
    }

    public int maxTokens() {
        return maxTokens;
    }

    public String movieId(int record) {
        return movieIds[record];
    }

    public String title(int record) {
        return titles[record];
    }

    public int titleIndex(int record) {
        return titleIndex[record];
    }

    /** Token id at position {@code t} of a record's title (0 = padding). */
    public int tokenId(int record, int t) {
        return tokenIds[record * maxTokens + t];
    }

    /** Weight of position {@code t} in the record's mean token embedding. */
    public float tokenWeight(int record, int t) {
        return tokenWeights[record * maxTokens + t];
    }

    /** Record index of each movie id, for encoding interactions. */
    public java.util.Map<String, Integer> recordIndexByMovieId() {
        java.util.Map<String, Integer> map = new java.util.HashMap<>(movieIds.length * 2);
        for (int i = 0; i < movieIds.length; i++) {
            map.put(movieIds[i], i);
        }
        return map;
    }

    @Override
    public String toString() {
        return "CandidateCorpus[" + size() + " records, " + maxTokens + " tokens max, first="
                + (size() > 0 ? Arrays.asList(titles).subList(0, 1) : "[]") + "]";
    }
}
