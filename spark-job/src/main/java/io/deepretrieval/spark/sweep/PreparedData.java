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

import java.nio.file.Path;

/** Everything training needs, prepared on Spark: the fitted spec, the candidate corpus, and the encoded split. */
public record PreparedData(FeatureSpec spec, CandidateCorpus corpus, Dataset<Row> trainRows, Dataset<Row> testRows,
                           Interactions train, Interactions test) {

    /** Reads, fits, encodes and splits; the train and test rows are also brought to the driver. */
    public static PreparedData prepare(SparkSession spark, Path dataDir, long seed, double testFraction,
                                       int timestampBuckets, int maxTokens) {
        MovieLensData data = new MovieLensReader(spark).read(dataDir);
        Dataset<Row> ratings = data.ratings().cache();
        FeatureSpec spec = new FeaturePreprocessor(timestampBuckets, maxTokens).fit(ratings, data.movies());
        CandidateCorpus corpus = EncodedRatings.corpus(spec, data.movies());
        Dataset<Row> encoded = EncodedRatings.encode(spark, spec, corpus, ratings);
        EncodedRatings.Split split = EncodedRatings.split(encoded, seed, testFraction);
        Dataset<Row> train = split.train().cache();
        Dataset<Row> test = split.test().cache();
        return new PreparedData(spec, corpus, train, test, EncodedRatings.collect(train), EncodedRatings.collect(test));
    }
}
