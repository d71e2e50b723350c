package io.deepretrieval.model.features;

import io.deepretrieval.model.io.AtomicFiles;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The fitted feature preprocessing: vocabularies, timestamp buckets and normalisation.
 * Written once by the Spark preprocessing job as human-readable JSON; read back by training and serving.
 * Index 0 of every string lookup is out-of-vocabulary; the token vocabulary starts with padding ("") and "[UNK]".
 */
@JsonPropertyOrder({"formatVersion", "timestampMean", "timestampVariance", "maxTitleTokens",
        "userVocabulary", "titleVocabulary", "tokenVocabulary", "timestampBoundaries"})
public final class FeatureSpec implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    public static final int FORMAT_VERSION = 1;
    public static final String PADDING = "";
    public static final String UNKNOWN_TOKEN = "[UNK]";
    /** Keras Normalization's floor on the standard deviation. */
    private static final double MIN_STD = 1e-7;

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .setVisibility(com.fasterxml.jackson.annotation.PropertyAccessor.GETTER, com.fasterxml.jackson.annotation.JsonAutoDetect.Visibility.NONE)
            .setVisibility(com.fasterxml.jackson.annotation.PropertyAccessor.IS_GETTER, com.fasterxml.jackson.annotation.JsonAutoDetect.Visibility.NONE);

    private final int formatVersion;
    private final List<String> userVocabulary;
    private final List<String> titleVocabulary;
    private final List<String> tokenVocabulary;
    private final double[] timestampBoundaries;
    private final double timestampMean;
    private final double timestampVariance;
    private final int maxTitleTokens;
    private final Map<String, Integer> userLookup;
    private final Map<String, Integer> titleLookup;
    private final Map<String, Integer> tokenLookup;

    @JsonCreator
    public FeatureSpec(
            @JsonProperty(value = "formatVersion", required = true) int formatVersion,
            @JsonProperty(value = "userVocabulary", required = true) List<String> userVocabulary,
            @JsonProperty(value = "titleVocabulary", required = true) List<String> titleVocabulary,
            @JsonProperty(value = "tokenVocabulary", required = true) List<String> tokenVocabulary,
            @JsonProperty(value = "timestampBoundaries", required = true) double[] timestampBoundaries,
            @JsonProperty(value = "timestampMean", required = true) double timestampMean,
            @JsonProperty(value = "timestampVariance", required = true) double timestampVariance,
            @JsonProperty(value = "maxTitleTokens", required = true) int maxTitleTokens) {
        if (formatVersion != FORMAT_VERSION) {
            throw new IllegalArgumentException("feature spec formatVersion " + formatVersion
                    + " is not supported (this build reads version " + FORMAT_VERSION + ")");
        }
        if (tokenVocabulary.size() < 2 || !PADDING.equals(tokenVocabulary.get(0))
                || !UNKNOWN_TOKEN.equals(tokenVocabulary.get(1))) {
            throw new IllegalArgumentException("token vocabulary must start with padding \"\" and \"[UNK]\"");
        }
        if (maxTitleTokens < 1) {
            throw new IllegalArgumentException("maxTitleTokens must be >= 1, got " + maxTitleTokens);
        }
        for (int i = 1; i < timestampBoundaries.length; i++) {
            if (timestampBoundaries[i] < timestampBoundaries[i - 1]) {
                throw new IllegalArgumentException("timestampBoundaries must be sorted (index " + i + ")");
            }
        }
        this.formatVersion = formatVersion;
        this.userVocabulary = List.copyOf(userVocabulary);
        this.titleVocabulary = List.copyOf(titleVocabulary);
        this.tokenVocabulary = List.copyOf(tokenVocabulary);
        this.timestampBoundaries = timestampBoundaries.clone();
        this.timestampMean = timestampMean;
        this.timestampVariance = timestampVariance;
        this.maxTitleTokens = maxTitleTokens;
        this.userLookup = index(this.userVocabulary, 1);
        this.titleLookup = index(this.titleVocabulary, 1);
        this.tokenLookup = index(this.tokenVocabulary, 0);
    }

    @JsonProperty
    public int formatVersion() {
        return formatVersion;
    }

    @JsonProperty
    public List<String> userVocabulary() {
        return userVocabulary;
    }

    @JsonProperty
    public List<String> titleVocabulary() {
        return titleVocabulary;
    }

    @JsonProperty
    public List<String> tokenVocabulary() {
        return tokenVocabulary;
    }

    @JsonProperty
    public double[] timestampBoundaries() {
        return timestampBoundaries.clone();
    }

    @JsonProperty
    public double timestampMean() {
        return timestampMean;
    }

    @JsonProperty
    public double timestampVariance() {
        return timestampVariance;
    }

    @JsonProperty
    public int maxTitleTokens() {
        return maxTitleTokens;
    }

    /** Rows of the user embedding table (vocabulary + out-of-vocabulary). */
    @JsonIgnore
    public int userTableSize() {
        return userVocabulary.size() + 1;
    }

    /** Rows of the title embedding table (vocabulary + out-of-vocabulary). */
    @JsonIgnore
    public int titleTableSize() {
        return titleVocabulary.size() + 1;
    }

    /** Rows of the timestamp-bucket embedding table. */
    @JsonIgnore
    public int bucketTableSize() {
        return timestampBoundaries.length + 1;
    }

    /** Rows of the title-token embedding table (padding and [UNK] included). */
    @JsonIgnore
    public int tokenTableSize() {
        return tokenVocabulary.size();
    }

    public int userIndex(String userId) {
        return userLookup.getOrDefault(userId, 0);
    }

    public int titleIndex(String title) {
        return titleLookup.getOrDefault(title, 0);
    }

    public int timestampBucket(long timestamp) {
        return TimestampBuckets.bucket(timestampBoundaries, timestamp);
    }

    public float normalizedTimestamp(long timestamp) {
        return (float) ((timestamp - timestampMean) / Math.max(Math.sqrt(timestampVariance), MIN_STD));
    }

    /** Token ids of a title, truncated to {@link #maxTitleTokens()}; unknown tokens map to 1. */
    public int[] titleTokenIds(String title) {
        List<String> tokens = TitleTokenizer.tokenize(title);
        int n = Math.min(tokens.size(), maxTitleTokens);
        int[] ids = new int[n];
        Map<String, Integer> vocab = tokenLookup;
        for (int i = 0; i < n; i++) {
            ids[i] = vocab.getOrDefault(tokens.get(i), 1);
        }
        return ids;
    }

    public void write(Path file) throws IOException {
        AtomicFiles.write(file, JSON.writeValueAsBytes(this));
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The spec written by {@link #toJson}. */
    public static FeatureSpec fromJson(String json) throws IOException {
        try {
            return JSON.readValue(json, FeatureSpec.class);
        } catch (IOException | IllegalArgumentException e) {
            throw new IOException("cannot read feature spec: " + e.getMessage(), e);
        }
    }

    public static FeatureSpec read(Path file) throws IOException {
        try {
            return JSON.readValue(Files.readAllBytes(file), FeatureSpec.class);
        } catch (IOException | IllegalArgumentException e) {
            throw new IOException("cannot read feature spec " + file + ": " + e.getMessage(), e);
        }
    }

    private static Map<String, Integer> index(List<String> vocabulary, int offset) {
        Map<String, Integer> map = new HashMap<>(vocabulary.size() * 2);
        for (int i = 0; i < vocabulary.size(); i++) {
            map.putIfAbsent(vocabulary.get(i), i + offset);
        }
        return map;
    }
}
