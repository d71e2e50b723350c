package io.deepretrieval.model.features;

import io.deepretrieval.model.io.AtomicFiles;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The fitted feature preprocessing of both towers: each declared feature with its vocabulary, bucket boundaries or
 * normalisation, and which columns key users and items. Written once by the Spark preprocessing job as
 * human-readable JSON; read back by training and serving.
 */
@JsonPropertyOrder({"formatVersion", "userColumn", "itemColumn", "query", "candidate"})
public final class FeatureSpec implements java.io.Serializable {
    private static final long serialVersionUID = 2L;
    public static final int FORMAT_VERSION = 2;
    public static final String PADDING = FittedFeature.PADDING;
    public static final String UNKNOWN_TOKEN = FittedFeature.UNKNOWN_TOKEN;

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .setVisibility(com.fasterxml.jackson.annotation.PropertyAccessor.GETTER, com.fasterxml.jackson.annotation.JsonAutoDetect.Visibility.NONE)
            .setVisibility(com.fasterxml.jackson.annotation.PropertyAccessor.IS_GETTER, com.fasterxml.jackson.annotation.JsonAutoDetect.Visibility.NONE);

    private final String userColumn;
    private final String itemColumn;
    private final List<FittedFeature> query;
    private final List<FittedFeature> candidate;
    // Derived once: serving encodes a query per request and every block of a partition.
    private final List<String> queryColumns;
    private final List<String> candidateColumns;
    private final int[] queryColumnOf;
    private final int[] candidateColumnOf;
    private final List<FittedFeature> derivedHistories;

    @JsonCreator
    public FeatureSpec(
            @JsonProperty(value = "formatVersion", required = true) int formatVersion,
            @JsonProperty(value = "userColumn", required = true) String userColumn,
            @JsonProperty(value = "itemColumn", required = true) String itemColumn,
            @JsonProperty(value = "query", required = true) List<FittedFeature> query,
            @JsonProperty(value = "candidate", required = true) List<FittedFeature> candidate) {
        if (formatVersion != FORMAT_VERSION) {
            throw new IllegalArgumentException("feature spec formatVersion " + formatVersion
                    + " is not supported (this build reads version " + FORMAT_VERSION + ")");
        }
        this.userColumn = userColumn;
        this.itemColumn = itemColumn;
        this.query = List.copyOf(query);
        this.candidate = List.copyOf(candidate);
        features(); // the declared set's own checks: at least one feature per tower, unique names
        checkSharedTables(this.query, this.candidate, itemColumn);
        this.queryColumns = distinctColumns(this.query, itemColumn);
        this.candidateColumns = distinctColumns(this.candidate, itemColumn);
        this.queryColumnOf = this.query.stream().mapToInt(f -> queryColumns.indexOf(f.config().inputColumn(itemColumn)))
                .toArray();
        this.candidateColumnOf = this.candidate.stream().mapToInt(f -> candidateColumns.indexOf(f.column())).toArray();
        this.derivedHistories = this.query.stream().filter(f -> f.config().derivedHistory(itemColumn)).toList();
    }

    /** A history sharing a table reads it by the same index: the target must key items with the same vocabulary. */
    private static void checkSharedTables(List<FittedFeature> query, List<FittedFeature> candidate, String itemColumn) {
        for (FittedFeature h : query) {
            if (h.shareWith() == null) {
                continue;
            }
            FittedFeature target = candidate.stream().filter(c -> c.name().equals(h.shareWith())).findFirst().orElseThrow();
            if (!target.column().equals(itemColumn) || !h.column().equals(itemColumn)) {
                throw new IllegalArgumentException("feature '" + h.name() + "': shareWith=" + h.shareWith()
                        + " needs both features on the item column '" + itemColumn + "' (the history reads '"
                        + h.column() + "', the candidate feature '" + target.column() + "')");
            }
            if (!target.vocabulary().equals(h.vocabulary())) {
                throw new IllegalArgumentException("feature '" + h.name() + "': its vocabulary differs from that of '"
                        + target.name() + "', whose table it shares");
            }
        }
    }

    public FeatureSpec(String userColumn, String itemColumn, List<FittedFeature> query, List<FittedFeature> candidate) {
        this(FORMAT_VERSION, userColumn, itemColumn, query, candidate);
    }

    @JsonProperty
    public int formatVersion() {
        return FORMAT_VERSION;
    }

    /** The column of user ids: the key of {@code recommendForAllUsers} and of {@link #userFeature}. */
    @JsonProperty
    public String userColumn() {
        return userColumn;
    }

    /** The column of item ids: candidates are keyed by it. */
    @JsonProperty
    public String itemColumn() {
        return itemColumn;
    }

    /** The query tower's features, in input order. */
    @JsonProperty
    public List<FittedFeature> query() {
        return query;
    }

    /** The candidate tower's features, in input order. */
    @JsonProperty
    public List<FittedFeature> candidate() {
        return candidate;
    }

    /** The declared features this spec was fitted for. */
    public TowerFeatures features() {
        return new TowerFeatures(query.stream().map(FittedFeature::config).toList(),
                candidate.stream().map(FittedFeature::config).toList());
    }

    /**
     * The query tower's histories that the pipeline derives from the interactions (declared on the item column),
     * each read from a column named after the feature.
     */
    public List<FittedFeature> derivedHistories() {
        return derivedHistories;
    }

    /** The distinct input columns of the query tower, in feature order (a derived history: its feature name). */
    public List<String> queryColumns() {
        return queryColumns;
    }

    /** The distinct input columns of the candidate tower, in feature order. */
    public List<String> candidateColumns() {
        return candidateColumns;
    }

    /** The categorical query feature on the user column, or null when the query tower has none. */
    public FittedFeature userFeature() {
        return query.stream().filter(f -> f.kind() == FeatureConfig.Kind.CATEGORICAL && f.column().equals(userColumn))
                .findFirst().orElse(null);
    }

    /** The query tower's first timestamp feature, or null. */
    public FittedFeature timestampFeature() {
        return query.stream().filter(f -> f.kind() == FeatureConfig.Kind.TIMESTAMP).findFirst().orElse(null);
    }

    /** The latest time seen in fitting (the last bucket boundary), or 0 without a timestamp feature. */
    public long latestTimestamp() {
        FittedFeature t = timestampFeature();
        if (t == null) {
            return 0;
        }
        return (long) t.lastBoundary(); // read per request by serving: no copy of the boundaries
    }

    /** Encodes query rows given as one value per {@link #queryColumns()} entry ({@code raw.get(row, columnIndex)}). */
    public FeatureColumns encodeQueries(int rows, FeatureColumns.Values byColumn) {
        return FeatureColumns.encode(query, rows, (r, f) -> byColumn.get(r, queryColumnOf[f]));
    }

    /** Encodes item rows given as one value per {@link #candidateColumns()} entry. */
    public FeatureColumns encodeCandidates(int rows, FeatureColumns.Values byColumn) {
        return FeatureColumns.encode(candidate, rows, (r, f) -> byColumn.get(r, candidateColumnOf[f]));
    }

    private static List<String> distinctColumns(List<FittedFeature> features, String itemColumn) {
        Set<String> seen = new HashSet<>();
        return features.stream().map(f -> f.config().inputColumn(itemColumn)).filter(seen::add).toList();
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
}
