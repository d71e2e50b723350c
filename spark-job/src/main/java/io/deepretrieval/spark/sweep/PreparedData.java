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

/**
 * Everything training needs, prepared on Spark: the fitted spec, the candidate corpus, and the encoded split as
 * cached DataFrames. The split's rows are brought to the driver only when {@link #train()} or {@link #test()} is
 * first asked for (training in the driver JVM); distributed training leaves them on the executors.
 */
public final class PreparedData {
    private final FeatureSpec spec;
    private final CandidateCorpus corpus;
    private final Dataset<Row> trainRows;
    private final Dataset<Row> testRows;
    private final List<DroppedLines> dropped;
    private Interactions train;
    private Interactions test;

    private PreparedData(FeatureSpec spec, CandidateCorpus corpus, Dataset<Row> trainRows, Dataset<Row> testRows,
                         List<DroppedLines> dropped) {
        this.spec = spec;
        this.corpus = corpus;
        this.trainRows = trainRows;
        this.testRows = testRows;
        this.dropped = dropped;
    }

    public FeatureSpec spec() {
        return spec;
    }

    public CandidateCorpus corpus() {
        return corpus;
    }

    /** The encoded training rows (cached). */
    public Dataset<Row> trainRows() {
        return trainRows;
    }

    /** The encoded test rows (cached). */
    public Dataset<Row> testRows() {
        return testRows;
    }

    public List<DroppedLines> dropped() {
        return dropped;
    }

    /** The training rows in the driver, collected on first use. */
    public synchronized Interactions train() {
        if (train == null) {
            train = EncodedRatings.collect(trainRows, spec);
        }
        return train;
    }

    /** The test rows in the driver, collected on first use. */
    public synchronized Interactions test() {
        if (test == null) {
            test = EncodedRatings.collect(testRows, spec);
        }
        return test;
    }

    /**
     * Reads, fits, encodes and splits. {@code dataDir} is a MovieLens folder as a Hadoop path or URI (see
     * {@link MovieLensReader#read}).
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
        return new PreparedData(spec, corpus, train, test, List.copyOf(dropped));
    }
}
