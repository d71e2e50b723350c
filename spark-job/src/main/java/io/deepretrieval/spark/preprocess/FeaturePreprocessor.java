package io.deepretrieval.spark.preprocess;

import io.deepretrieval.model.features.FeatureSpec;
import io.deepretrieval.model.features.TimestampBuckets;
import io.deepretrieval.model.features.TitleTokenizer;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
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
 * Fits the feature preprocessing on Spark DataFrames (the estimator; its fitted result is a {@link FeatureSpec}):
 * user-id and title vocabularies, timestamp bucket boundaries, timestamp mean and variance, and the title-token
 * vocabulary. Every statistic is computed by Spark; only the fitted vocabularies reach the driver.
 */
public final class FeaturePreprocessor {
    /** The tutorial's settings: 1,000 timestamp boundaries, 10,000 title tokens including padding and [UNK]. */
    public static final int DEFAULT_BUCKETS = 1000;
    public static final int DEFAULT_MAX_TOKENS = 10_000;

    private final int bucketBoundaries;
    private final int maxTokens;

    public FeaturePreprocessor(int bucketBoundaries, int maxTokens) {
        if (bucketBoundaries < 2) {
            throw new IllegalArgumentException("timestampBuckets must be >= 2, got " + bucketBoundaries);
        }
        if (maxTokens < 3) {
            throw new IllegalArgumentException("maxTokens must be >= 3 (padding, [UNK] and one token), got " + maxTokens);
        }
        this.bucketBoundaries = bucketBoundaries;
        this.maxTokens = maxTokens;
    }

    /** Spark UDF: a title's tokens, by the same tokenizer the model applies at serving time. */
    public static UserDefinedFunction tokenizeUdf() {
        return udf((UDF1<String, List<String>>) TitleTokenizer::tokenize, DataTypes.createArrayType(DataTypes.StringType));
    }

    /**
     * @param ratings {@code user_id}, {@code timestamp} (and others)
     * @param movies  {@code title} (and others); the token vocabulary counts every movie record
     */
    public FeatureSpec fit(Dataset<Row> ratings, Dataset<Row> movies) {
        List<String> users = sortedDistinct(ratings, "user_id");
        List<String> titles = sortedDistinct(movies, "title");

        Row stats = ratings.agg(min("timestamp"), max("timestamp"), mean("timestamp"), var_pop("timestamp")).first();
        double minTs = stats.getLong(0);
        double maxTs = stats.getLong(1);
        double meanTs = stats.getDouble(2);
        double varTs = stats.getDouble(3);

        Dataset<Row> tokenized = movies.select(tokenizeUdf().apply(col("title")).as("tokens")).cache();
        int longestTitle = tokenized.agg(max(size(col("tokens")))).first().getInt(0);
        List<String> tokens = new ArrayList<>();
        tokens.add(FeatureSpec.PADDING);
        tokens.add(FeatureSpec.UNKNOWN_TOKEN);
        // Descending frequency, ties by token so the vocabulary is reproducible.
        for (Row r : tokenized.select(explode(col("tokens")).as("token"))
                .groupBy("token").agg(count("*").as("n"))
                .orderBy(desc("n"), col("token"))
                .limit(maxTokens - 2)
                .collectAsList()) {
            tokens.add(r.getString(0));
        }
        tokenized.unpersist();

        return new FeatureSpec(FeatureSpec.FORMAT_VERSION, users, titles, tokens,
                TimestampBuckets.linspace(minTs, maxTs, bucketBoundaries), meanTs, varTs, Math.max(1, longestTitle));
    }

    private static List<String> sortedDistinct(Dataset<Row> df, String column) {
        List<String> values = new ArrayList<>();
        for (Row r : df.select(column).distinct().orderBy(column).collectAsList()) {
            values.add(r.getString(0));
        }
        return values;
    }
}
