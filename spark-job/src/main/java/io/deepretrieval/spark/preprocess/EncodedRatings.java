package io.deepretrieval.spark.preprocess;

import io.deepretrieval.model.features.CandidateCorpus;
import io.deepretrieval.model.features.FeatureSpec;
import io.deepretrieval.model.features.Interactions;
import io.deepretrieval.spark.ingest.DroppedLines;
import io.deepretrieval.spark.ingest.InputPolicy;
import io.deepretrieval.spark.ingest.MalformedInputException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.udf;

/**
 * Applies a fitted {@link FeatureSpec} to ratings: the model's inputs as DataFrame columns
 * ({@code user_index}, {@code timestamp_bucket}, {@code normalized_timestamp}, {@code candidate}), and the seeded
 * train/test split.
 */
public final class EncodedRatings {
    public static final StructType CANDIDATE_RECORDS = new StructType()
            .add("movie_id", DataTypes.StringType, false)
            .add("candidate", DataTypes.IntegerType, false);

    private EncodedRatings() {
    }

    /**
     * The candidate corpus: every movie record, in movie-id order (record i = i-th smallest id; numeric ids in
     * numeric order, others after them in string order).
     */
    public static CandidateCorpus corpus(FeatureSpec spec, Dataset<Row> movies) {
        List<String> ids = new ArrayList<>();
        List<String> titles = new ArrayList<>();
        for (Row r : movies.orderBy(col("movie_id").cast("long").asc_nulls_last(), col("movie_id")).collectAsList()) {
            ids.add(r.getString(r.fieldIndex("movie_id")));
            titles.add(r.getString(r.fieldIndex("title")));
        }
        return CandidateCorpus.encode(spec, ids, titles);
    }

    /**
     * Ratings whose movie is in {@code movies}. Any other rating stops the job under failFast; under dropMalformed
     * it is skipped and counted in {@code dropped}. Run before fitting, so dropped ratings shape no vocabulary.
     */
    public static Dataset<Row> withKnownMovies(Dataset<Row> ratings, Dataset<Row> movies, InputPolicy policy,
                                               List<DroppedLines> dropped) {
        Dataset<Row> ids = movies.select("movie_id").distinct();
        Dataset<Row> unknown = ratings.join(broadcast(ids), ratings.col("movie_id").equalTo(ids.col("movie_id")), "left_anti");
        List<Row> examples = unknown.select("movie_id").distinct().orderBy("movie_id").limit(5).collectAsList();
        if (examples.isEmpty()) {
            return ratings;
        }
        long n = unknown.count();
        String problem = n + " ratings reference movies missing from the movies file, e.g. movie ids "
                + examples.stream().map(r -> r.getString(0)).toList();
        if (policy == InputPolicy.FAIL_FAST) {
            throw new MalformedInputException(problem);
        }
        dropped.add(new DroppedLines("ratings referencing unknown movies", n, List.of(problem)));
        return ratings.join(broadcast(ids), ratings.col("movie_id").equalTo(ids.col("movie_id")), "left_semi");
    }

    /** Encodes ratings whose movies are all in the corpus (see {@link #withKnownMovies}, which checks that once). */
    public static Dataset<Row> encode(SparkSession spark, FeatureSpec spec, CandidateCorpus corpus, Dataset<Row> ratings) {
        List<Row> records = new ArrayList<>();
        for (int i = 0; i < corpus.size(); i++) {
            records.add(RowFactory.create(corpus.movieId(i), i));
        }
        Dataset<Row> recordIndex = spark.createDataFrame(records, CANDIDATE_RECORDS);
        Dataset<Row> joined = ratings.join(broadcast(recordIndex), ratings.col("movie_id").equalTo(recordIndex.col("movie_id")))
                .drop(recordIndex.col("movie_id"));
        return joined.select(
                col("user_id"), col("movie_id"), col("timestamp"),
                udf((UDF1<String, Integer>) spec::userIndex, DataTypes.IntegerType).apply(col("user_id")).as("user_index"),
                udf((UDF1<Long, Integer>) spec::timestampBucket, DataTypes.IntegerType).apply(col("timestamp")).as("timestamp_bucket"),
                udf((UDF1<Long, Float>) spec::normalizedTimestamp, DataTypes.FloatType).apply(col("timestamp")).as("normalized_timestamp"),
                col("candidate"));
    }

    /**
     * Seeded shuffle, then the first {@code 1 - testFraction} of rows train and the rest test (the tutorial's
     * 80,000 / 20,000 on MovieLens 100k). The order depends only on the seed and each rating's content, not on
     * how Spark partitioned the file. See {@link InteractionSplits#random}, which this is.
     */
    public static Split split(Dataset<Row> encoded, long seed, double testFraction) {
        InteractionSplits.Split split = InteractionSplits.DEFAULT.random(encoded, seed, testFraction);
        return new Split(split.train(), split.test());
    }

    /** Brings encoded rows to the driver as model inputs, in DataFrame order, streaming partition by partition. */
    public static Interactions collect(Dataset<Row> encoded) {
        int n = Math.toIntExact(encoded.count());
        int[] users = new int[n];
        int[] buckets = new int[n];
        float[] times = new float[n];
        int[] candidates = new int[n];
        Iterator<Row> it = encoded.select("user_index", "timestamp_bucket", "normalized_timestamp", "candidate").toLocalIterator();
        for (int i = 0; it.hasNext(); i++) {
            Row r = it.next();
            users[i] = r.getInt(0);
            buckets[i] = r.getInt(1);
            times[i] = r.getFloat(2);
            candidates[i] = r.getInt(3);
        }
        return new Interactions(users, buckets, times, candidates);
    }

    /** Train and test rows. */
    public record Split(Dataset<Row> train, Dataset<Row> test) {
    }
}
