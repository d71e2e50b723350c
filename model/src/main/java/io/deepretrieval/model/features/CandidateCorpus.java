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
        int[] tokens = new int[Math.multiplyExact(n, len)];
        float[] weights = new float[tokens.length];
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

    /**
     * The candidate inputs of some records, gathered once for both training feeds and serving graphs: title
     * indices, and token ids with their mean weights, row-major [records.length, maxTokens].
     */
    public Inputs inputs(int[] records) {
        int n = records.length;
        int[] title = new int[n];
        int[] ids = new int[Math.multiplyExact(n, maxTokens)];
        float[] weights = new float[ids.length];
        for (int i = 0; i < n; i++) {
            int r = records[i];
            title[i] = titleIndex[r];
            System.arraycopy(tokenIds, r * maxTokens, ids, i * maxTokens, maxTokens);
            System.arraycopy(tokenWeights, r * maxTokens, weights, i * maxTokens, maxTokens);
        }
        return new Inputs(title, ids, weights, maxTokens);
    }

    /** Every record's position, 0..size-1. */
    public int[] allRecords() {
        return java.util.stream.IntStream.range(0, size()).toArray();
    }

    /** Candidate-tower inputs of a set of records (see {@link #inputs}). */
    public record Inputs(int[] titleIndex, int[] tokenIds, float[] tokenWeights, int width) {
    }

    @Override
    public String toString() {
        return "CandidateCorpus[" + size() + " records, " + maxTokens + " tokens max, first="
                + (size() > 0 ? Arrays.asList(titles).subList(0, 1) : "[]") + "]";
    }
}
