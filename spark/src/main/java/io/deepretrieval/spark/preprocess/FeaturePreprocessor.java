package io.deepretrieval.spark.preprocess;

import io.deepretrieval.model.features.FeatureConfig;
import io.deepretrieval.model.features.FeatureSpec;
import io.deepretrieval.model.features.FittedFeature;
import io.deepretrieval.model.features.TimestampBuckets;
import io.deepretrieval.model.features.TitleTokenizer;
import io.deepretrieval.model.features.TowerFeatures;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataTypes;

import java.util.ArrayList;
import java.util.List;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.desc;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.mean;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.var_pop;

/**
 * Fits the declared features on Spark DataFrames (the estimator; its fitted result is a {@link FeatureSpec}):
 * vocabularies (sorted distinct values; text tokens by descending frequency), timestamp bucket boundaries, means
 * and variances. Query features are fitted on the interactions, candidate features on the item table (one row per
 * item). Every statistic is computed by Spark; only the fitted vocabularies reach the driver.
 */
public final class FeaturePreprocessor {
    /** The tutorial's settings: 1,000 timestamp boundaries, 10,000 title tokens including padding and [UNK]. */
    public static final int DEFAULT_BUCKETS = FeatureConfig.DEFAULT_BUCKETS;
    public static final int DEFAULT_MAX_TOKENS = FeatureConfig.DEFAULT_TOKENS;

    private final TowerFeatures features;
    private final String userColumn;
    private final String itemColumn;

    public FeaturePreprocessor(TowerFeatures features, String userColumn, String itemColumn) {
        this.features = features;
        this.userColumn = userColumn;
        this.itemColumn = itemColumn;
    }

    /** The tutorial's features on MovieLens' columns ({@code user_id}, {@code timestamp}, {@code title}). */
    public static FeaturePreprocessor tutorial(int timestampBuckets, int maxTokens) {
        return new FeaturePreprocessor(TowerFeatures.tutorial("user_id", "timestamp", "title", timestampBuckets, maxTokens),
                "user_id", "movie_id");
    }

    /** Spark UDF: a title's tokens, by the same tokenizer the model applies at serving time. */
    public static UserDefinedFunction tokenizeUdf() {
        return udf((UDF1<String, List<String>>) t -> t == null ? List.of() : TitleTokenizer.tokenize(t),
                DataTypes.createArrayType(DataTypes.StringType));
    }

    /**
     * @param interactions the query features' columns (and others)
     * @param items        the candidate features' columns, one row per item (and others)
     */
    public FeatureSpec fit(Dataset<Row> interactions, Dataset<Row> items) {
        List<FittedFeature> candidate = new ArrayList<>();
        for (FeatureConfig f : features.candidate()) {
            candidate.add(fit(f, items));
        }
        List<FittedFeature> query = new ArrayList<>();
        for (FeatureConfig f : features.query()) {
            query.add(f.kind() == FeatureConfig.Kind.HISTORY ? fitHistory(f, interactions, candidate) : fit(f, interactions));
        }
        return new FeatureSpec(userColumn, itemColumn, query, candidate);
    }

    /**
     * A history's item vocabulary: that of the candidate feature whose table it shares, else the distinct items of
     * the interactions ({@link KeyColumns#ITEM} for a history derived from them, the ids in a supplied array column).
     */
    private FittedFeature fitHistory(FeatureConfig f, Dataset<Row> interactions, List<FittedFeature> candidate) {
        if (f.shareWith() != null) {
            return FittedFeature.history(f, candidate.stream().filter(c -> c.name().equals(f.shareWith()))
                    .findFirst().orElseThrow().vocabulary());
        }
        Column items = f.derivedHistory(itemColumn) ? col(KeyColumns.ITEM) : explode(col(f.column()));
        return FittedFeature.history(f, vocabulary(interactions.select(items.cast("string").as("item")), col("item"), 0));
    }

    private static FittedFeature fit(FeatureConfig f, Dataset<Row> df) {
        Column c = col(f.column());
        return switch (f.kind()) {
            case CATEGORICAL -> FittedFeature.categorical(f, vocabulary(df, c.cast("string"), f.size()));
            case TIMESTAMP -> {
                Row s = df.agg(min(c.cast("long")), max(c.cast("long")), mean(c.cast("long")), var_pop(c.cast("long"))).first();
                if (s.isNullAt(0)) {
                    throw new IllegalArgumentException("feature '" + f.name() + "': column '" + f.column() + "' has no times");
                }
                yield FittedFeature.timestamp(f, TimestampBuckets.linspace(s.getLong(0), s.getLong(1), f.size()),
                        s.getDouble(2), s.getDouble(3));
            }
            case NUMERIC -> {
                Row s = df.agg(mean(c.cast("double")), var_pop(c.cast("double"))).first();
                if (s.isNullAt(0)) {
                    throw new IllegalArgumentException("feature '" + f.name() + "': column '" + f.column() + "' has no numbers");
                }
                yield FittedFeature.numeric(f, s.getDouble(0), s.getDouble(1));
            }
            case TEXT -> fitText(f, df);
            case HISTORY -> throw new IllegalStateException("histories are fitted by fitHistory");
        };
    }

    /** Tokens by descending frequency (ties by token, so the vocabulary is reproducible), after padding and [UNK]. */
    private static FittedFeature fitText(FeatureConfig f, Dataset<Row> df) {
        boolean tokenised = df.schema().apply(f.column()).dataType() instanceof ArrayType;
        Column tokensOf = tokenised ? col(f.column()) : tokenizeUdf().apply(col(f.column()));
        Dataset<Row> tokenized = df.select(tokensOf.as("tokens")).cache();
        Row longest = tokenized.agg(max(size(col("tokens")))).first();
        List<String> tokens = new ArrayList<>();
        tokens.add(FeatureSpec.PADDING);
        tokens.add(FeatureSpec.UNKNOWN_TOKEN);
        for (Row r : tokenized.select(explode(col("tokens")).as("token")).filter(col("token").isNotNull())
                .groupBy("token").agg(count("*").as("n"))
                .orderBy(desc("n"), col("token"))
                .limit(f.size() - 2)
                .collectAsList()) {
            tokens.add(r.getString(0));
        }
        tokenized.unpersist();
        return FittedFeature.text(f, tokens, Math.max(1, longest.isNullAt(0) ? 1 : longest.getInt(0)));
    }

    /** Sorted distinct non-null values; with a size, the {@code size} most frequent (ties by value), then sorted. */
    private static List<String> vocabulary(Dataset<Row> df, Column value, int size) {
        Dataset<Row> values = df.select(value.as("v")).filter(col("v").isNotNull());
        if (size > 0) {
            values = values.groupBy("v").agg(count("*").as("n")).orderBy(desc("n"), col("v")).limit(size).select("v");
        }
        List<String> out = new ArrayList<>();
        for (Row r : values.distinct().orderBy("v").collectAsList()) {
            out.add(r.getString(0));
        }
        return out;
    }
}
