package io.deepretrieval.spark.sweep;

import io.deepretrieval.model.features.CandidateCorpus;
import io.deepretrieval.model.features.FeatureSpec;
import io.deepretrieval.model.features.Interactions;
import io.deepretrieval.spark.ingest.MovieLensData;
import io.deepretrieval.spark.ingest.MovieLensReader;
import io.deepretrieval.spark.preprocess.EncodedRatings;
import io.deepretrieval.spark.preprocess.FeaturePreprocessor;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.util.ArrayList;
import java.util.List;
import io.deepretrieval.spark.ingest.DroppedLines;
import io.deepretrieval.spark.ingest.InputPolicy;

/** Everything training needs, prepared on Spark: the fitted spec, the candidate corpus, and the encoded split. */
public record PreparedData(FeatureSpec spec, CandidateCorpus corpus, Dataset<Row> trainRows, Dataset<Row> testRows,
                           Interactions train, Interactions test, List<DroppedLines> dropped) {

    /**
     * Reads, fits, encodes and splits; the train and test rows are also brought to the driver. {@code dataDir} is
     * a MovieLens folder as a Hadoop path or URI (see {@link MovieLensReader#read}).
     */
    public static PreparedData prepare(SparkSession spark, String dataDir, long seed, double testFraction,
                                       int timestampBuckets, int maxTokens) {
        return prepare(spark, dataDir, seed, testFraction, timestampBuckets, maxTokens, InputPolicy.FAIL_FAST);
    }

    public static PreparedData prepare(SparkSession spark, String dataDir, long seed, double testFraction,
                                       int timestampBuckets, int maxTokens, InputPolicy policy) {
        MovieLensData data = new MovieLensReader(spark, policy).read(dataDir);
        List<DroppedLines> dropped = new ArrayList<>(data.dropped());
        Dataset<Row> ratings = EncodedRatings.withKnownMovies(data.ratings(), data.movies(), policy, dropped).cache();
        FeatureSpec spec = FeaturePreprocessor.tutorial(timestampBuckets, maxTokens).fit(ratings, data.movies());
        CandidateCorpus corpus = EncodedRatings.corpus(spec, data.movies(), "title");
        Dataset<Row> encoded = EncodedRatings.encode(spark, spec, corpus, ratings);
        EncodedRatings.Split split = EncodedRatings.split(encoded, seed, testFraction);
        Dataset<Row> train = split.train().cache();
        Dataset<Row> test = split.test().cache();
        return new PreparedData(spec, corpus, train, test, EncodedRatings.collect(train, spec), EncodedRatings.collect(test, spec),
                List.copyOf(dropped));
    }
}
