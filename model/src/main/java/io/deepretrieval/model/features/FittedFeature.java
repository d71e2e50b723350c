package io.deepretrieval.model.features;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One feature's fitted preprocessing (a vocabulary, bucket boundaries, a mean and variance) and the encoding of a
 * raw value with it. Index 0 of a categorical lookup is out-of-vocabulary; a text vocabulary starts with padding
 * ({@code ""}, index 0) and {@code [UNK]} (index 1).
 */
@JsonPropertyOrder({"name", "kind", "column", "size", "shareWith", "mean", "variance", "width", "vocabulary", "boundaries"})
public final class FittedFeature implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    public static final String PADDING = "";
    public static final String UNKNOWN_TOKEN = "[UNK]";
    /** Keras Normalization's floor on the standard deviation. */
    private static final double MIN_STD = 1e-7;

    private final FeatureConfig config;
    private final List<String> vocabulary;
    private final double[] boundaries;
    private final double mean;
    private final double variance;
    private final int width;
    private final Map<String, Integer> lookup;

    @JsonCreator
    public FittedFeature(@JsonProperty(value = "name", required = true) String name,
                         @JsonProperty(value = "kind", required = true) FeatureConfig.Kind kind,
                         @JsonProperty(value = "column", required = true) String column,
                         @JsonProperty(value = "size", required = true) int size,
                         @JsonProperty("vocabulary") List<String> vocabulary,
                         @JsonProperty("boundaries") double[] boundaries,
                         @JsonProperty("mean") double mean,
                         @JsonProperty("variance") double variance,
                         @JsonProperty("width") int width,
                         @JsonProperty("shareWith") String shareWith) {
        this.config = new FeatureConfig(name, kind, column, size, shareWith);
        this.vocabulary = vocabulary == null ? List.of() : List.copyOf(vocabulary);
        this.boundaries = boundaries == null ? new double[0] : boundaries.clone();
        this.mean = mean;
        this.variance = variance;
        this.width = switch (kind) {
            case TEXT -> width;
            case HISTORY -> size;
            default -> 1;
        };
        switch (kind) {
            case TEXT -> {
                if (this.vocabulary.size() < 2 || !PADDING.equals(this.vocabulary.get(0))
                        || !UNKNOWN_TOKEN.equals(this.vocabulary.get(1))) {
                    throw new IllegalArgumentException("feature '" + name + "': a token vocabulary must start with"
                            + " padding \"\" and \"[UNK]\"");
                }
                if (width < 1) {
                    throw new IllegalArgumentException("feature '" + name + "': width (tokens per value) must be >= 1, got " + width);
                }
            }
            case TIMESTAMP -> {
                if (this.boundaries.length < 1) {
                    throw new IllegalArgumentException("feature '" + name + "': no bucket boundaries");
                }
                for (int i = 1; i < this.boundaries.length; i++) {
                    if (this.boundaries[i] < this.boundaries[i - 1]) {
                        throw new IllegalArgumentException("feature '" + name + "': boundaries must be sorted (index " + i + ")");
                    }
                }
            }
            default -> {
            }
        }
        if (!(variance >= 0) || Double.isNaN(mean)) {
            throw new IllegalArgumentException("feature '" + name + "': mean " + mean + " and variance " + variance
                    + " must be numbers, the variance >= 0");
        }
        this.lookup = index(this.vocabulary, kind == FeatureConfig.Kind.TEXT ? 0 : 1);
    }

    /** A fitted categorical feature: {@code vocabulary} in index order from 1. */
    public static FittedFeature categorical(FeatureConfig config, List<String> vocabulary) {
        return new FittedFeature(config.name(), config.kind(), config.column(), config.size(), vocabulary, null, 0, 0, 1, null);
    }

    /**
     * A fitted history feature: {@code vocabulary} (item ids) in index order from 1, index 0 being an item outside
     * it; a shared history takes the vocabulary of the candidate feature it shares a table with.
     */
    public static FittedFeature history(FeatureConfig config, List<String> vocabulary) {
        return new FittedFeature(config.name(), config.kind(), config.column(), config.size(), vocabulary, null, 0, 0,
                config.size(), config.shareWith());
    }

    /** A fitted text feature: {@code vocabulary} from index 0 (padding, [UNK], tokens); at most {@code width} tokens per value. */
    public static FittedFeature text(FeatureConfig config, List<String> vocabulary, int width) {
        return new FittedFeature(config.name(), config.kind(), config.column(), config.size(), vocabulary, null, 0, 0, width, null);
    }

    public static FittedFeature numeric(FeatureConfig config, double mean, double variance) {
        return new FittedFeature(config.name(), config.kind(), config.column(), config.size(), null, null, mean, variance, 1, null);
    }

    public static FittedFeature timestamp(FeatureConfig config, double[] boundaries, double mean, double variance) {
        return new FittedFeature(config.name(), config.kind(), config.column(), config.size(), null, boundaries, mean, variance, 1, null);
    }

    @JsonIgnore
    public FeatureConfig config() {
        return config;
    }

    @JsonProperty
    public String name() {
        return config.name();
    }

    @JsonProperty
    public FeatureConfig.Kind kind() {
        return config.kind();
    }

    @JsonProperty
    public String column() {
        return config.column();
    }

    @JsonProperty
    public int size() {
        return config.size();
    }

    /** The last bucket boundary (the latest fitted value of a timestamp feature), without copying them all. */
    public double lastBoundary() {
        return boundaries[boundaries.length - 1];
    }

    /** The candidate feature whose table a history shares, or null. */
    @JsonProperty
    public String shareWith() {
        return config.shareWith();
    }

    @JsonProperty
    public List<String> vocabulary() {
        return vocabulary;
    }

    @JsonProperty
    public double[] boundaries() {
        return boundaries.clone();
    }

    @JsonProperty
    public double mean() {
        return mean;
    }

    @JsonProperty
    public double variance() {
        return variance;
    }

    /** Ids per value: the most tokens of a text value, 1 for every other kind. */
    @JsonProperty
    public int width() {
        return width;
    }

    /** Whether the feature has an embedding table. */
    @JsonIgnore
    public boolean embedded() {
        return kind() != FeatureConfig.Kind.NUMERIC;
    }

    /** Whether the feature's embedding is the masked mean of several rows (text tokens, history items). */
    @JsonIgnore
    public boolean pooled() {
        return kind() == FeatureConfig.Kind.TEXT || kind() == FeatureConfig.Kind.HISTORY;
    }

    /** Whether the feature adds a normalised value to the tower input. */
    @JsonIgnore
    public boolean valued() {
        return kind() == FeatureConfig.Kind.NUMERIC || kind() == FeatureConfig.Kind.TIMESTAMP;
    }

    /** Rows of the feature's embedding table (0 when it has none). */
    @JsonIgnore
    public int tableRows() {
        return switch (kind()) {
            case CATEGORICAL, HISTORY -> vocabulary.size() + 1;
            case TEXT -> vocabulary.size();
            case TIMESTAMP -> boundaries.length + 1;
            case NUMERIC -> 0;
        };
    }

    /** The embedding table's parameter name. */
    @JsonIgnore
    public String tableName() {
        if (shareWith() != null) {
            return shareWith() + "_table"; // the shared categorical feature's own table
        }
        return kind() == FeatureConfig.Kind.TIMESTAMP ? name() + "_bucket_table" : name() + "_table";
    }

    /** Categorical index of a value (0 when unknown or null). */
    public int index(Object value) {
        return value == null ? 0 : lookup.getOrDefault(String.valueOf(value), 0);
    }

    /** Timestamp bucket of a time in seconds. */
    public int bucket(double seconds) {
        return TimestampBuckets.bucket(boundaries, seconds);
    }

    /** The value normalised with the fitted mean and variance. */
    public float normalized(double value) {
        return (float) ((value - mean) / Math.max(Math.sqrt(variance), MIN_STD));
    }

    /**
     * Token ids of a text value (a string is tokenised; a list of strings is taken as its tokens), truncated to
     * {@link #width()}; unknown tokens map to 1, a null value to no tokens.
     */
    public int[] tokenIds(Object value) {
        List<?> tokens = value == null ? List.of()
                : value instanceof List<?> list ? list : TitleTokenizer.tokenize(String.valueOf(value));
        int n = Math.min(tokens.size(), width);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            Object t = tokens.get(i);
            ids[i] = t == null ? 1 : lookup.getOrDefault(String.valueOf(t), 1);
        }
        return ids;
    }

    /**
     * Table ids of a history (a list of item ids, oldest first; null: empty): the last {@link #width()} items,
     * an item outside the vocabulary (or a null one) mapping to 0.
     */
    public int[] historyIds(Object value) {
        if (value == null) {
            return new int[0];
        }
        if (!(value instanceof List<?> items)) {
            throw new IllegalArgumentException("feature '" + name() + "' (column '" + column() + "'): a history is a"
                    + " list of item ids, got " + value.getClass().getSimpleName() + " '" + value + "'");
        }
        int n = Math.min(items.size(), width);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = index(items.get(items.size() - n + i));
        }
        return ids;
    }

    /** A time value as seconds: a number, or a {@code java.sql.Timestamp} / {@code java.time.Instant}. */
    static double seconds(FittedFeature f, Object value) {
        if (value instanceof Number n) {
            return n.doubleValue();
        }
        if (value instanceof java.util.Date d) {
            return Math.floorDiv(d.getTime(), 1000L);
        }
        if (value instanceof java.time.Instant i) {
            return i.getEpochSecond();
        }
        throw new IllegalArgumentException("feature '" + f.name() + "' (column '" + f.column() + "'): "
                + (value == null ? "a null time" : "cannot read " + value.getClass().getSimpleName() + " '" + value + "' as seconds"));
    }

    /** A numeric value (null: the fitted mean, i.e. 0 once normalised). */
    static double number(FittedFeature f, Object value) {
        if (value == null) {
            return f.mean;
        }
        if (value instanceof Number n) {
            return n.doubleValue();
        }
        throw new IllegalArgumentException("feature '" + f.name() + "' (column '" + f.column() + "'): cannot read "
                + value.getClass().getSimpleName() + " '" + value + "' as a number");
    }

    private static Map<String, Integer> index(List<String> vocabulary, int offset) {
        Map<String, Integer> map = new HashMap<>(vocabulary.size() * 2);
        for (int i = 0; i < vocabulary.size(); i++) {
            map.putIfAbsent(vocabulary.get(i), i + offset);
        }
        return map;
    }

    @Override
    public String toString() {
        return "FittedFeature[" + config + ", " + tableRows() + " rows]";
    }
}
