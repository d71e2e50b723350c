package io.deepretrieval.spark;

import io.deepretrieval.spark.ingest.DroppedLines;
import io.deepretrieval.spark.ingest.InputPolicy;
import io.deepretrieval.spark.ingest.MovieLensReader;
import io.deepretrieval.spark.ml.PreparedInteractions;
import io.deepretrieval.spark.ml.TwoTowerRetrieval;
import org.apache.spark.sql.SparkSession;

import java.util.List;

/** A MovieLens folder prepared by the Estimator's own first steps (the tutorial's features, a seeded random split). */
public record TutorialData(PreparedInteractions prepared, List<DroppedLines> dropped) {
    public static PreparedInteractions prepare(SparkSession spark, String dir, long seed, double heldOutFraction,
                                               int timestampBuckets, int maxTokens) {
        return read(spark, dir, seed, heldOutFraction, timestampBuckets, maxTokens, InputPolicy.FAIL_FAST).prepared();
    }

    public static TutorialData read(SparkSession spark, String dir, long seed, double heldOutFraction,
                                    int timestampBuckets, int maxTokens, InputPolicy policy) {
        MovieLensReader.TitledRatings data = new MovieLensReader(spark, policy).readTitledRatings(dir);
        return new TutorialData(new TwoTowerRetrieval().setSeed(seed).setValidationFraction(heldOutFraction)
                .setTimestampBuckets(timestampBuckets).setMaxTokens(maxTokens).prepare(data.table()), data.dropped());
    }
}
