package io.deepretrieval.model.features;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The declared inputs of both towers, in the order they are concatenated. Query features are read per interaction;
 * candidate features per item. {@link #tutorial} is the TFRS tutorial's set.
 */
public record TowerFeatures(List<FeatureConfig> query, List<FeatureConfig> candidate) implements java.io.Serializable {

    public TowerFeatures {
        query = List.copyOf(query);
        candidate = List.copyOf(candidate);
        if (query.isEmpty() || candidate.isEmpty()) {
            throw new IllegalArgumentException("each tower needs at least one feature (query " + query.size()
                    + ", candidate " + candidate.size() + ")");
        }
        Set<String> names = new HashSet<>();
        for (FeatureConfig f : concat(query, candidate)) {
            if (!names.add(f.name())) {
                throw new IllegalArgumentException("feature name '" + f.name() + "' is used twice; name one of them"
                        + " (name=column:kind)");
            }
        }
        for (FeatureConfig f : candidate) {
            if (f.kind() == FeatureConfig.Kind.HISTORY) {
                throw new IllegalArgumentException("feature '" + f.name() + "': a history describes the query (the"
                        + " user's recent items); declare it among the query features");
            }
        }
        for (FeatureConfig f : query) {
            if (f.shareWith() != null && candidate.stream().noneMatch(c -> c.name().equals(f.shareWith())
                    && c.kind() == FeatureConfig.Kind.CATEGORICAL)) {
                throw new IllegalArgumentException("feature '" + f.name() + "': shareWith=" + f.shareWith()
                        + " names no categorical candidate feature (candidate features: "
                        + candidate.stream().map(FeatureConfig::toString).toList() + ")");
            }
        }
    }

    /**
     * The tutorial: query = user id (categorical) + timestamp (buckets and normalised value); candidate = title
     * (categorical) + title tokens (mean embedding).
     */
    public static TowerFeatures tutorial(String userColumn, String timestampColumn, String titleColumn,
                                         int timestampBuckets, int maxTokens) {
        return new TowerFeatures(
                List.of(FeatureConfig.categorical("user", userColumn),
                        FeatureConfig.timestamp("timestamp", timestampColumn, timestampBuckets)),
                List.of(FeatureConfig.categorical("title", titleColumn),
                        FeatureConfig.text("title_token", titleColumn, maxTokens)));
    }

    /** Parses the {@link FeatureConfig#parse} forms of both lists. */
    public static TowerFeatures parse(List<String> query, List<String> candidate) {
        return new TowerFeatures(query.stream().map(FeatureConfig::parse).toList(),
                candidate.stream().map(FeatureConfig::parse).toList());
    }

    private static List<FeatureConfig> concat(List<FeatureConfig> a, List<FeatureConfig> b) {
        return java.util.stream.Stream.concat(a.stream(), b.stream()).toList();
    }
}
