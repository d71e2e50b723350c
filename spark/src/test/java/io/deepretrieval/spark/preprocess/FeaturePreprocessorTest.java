package io.deepretrieval.spark.preprocess;

import io.deepretrieval.model.features.FeatureSpec;
import io.deepretrieval.model.features.FittedFeature;
import io.deepretrieval.spark.TestSpark;
import io.deepretrieval.spark.ingest.MovieLensReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class FeaturePreprocessorTest {
    private final SparkSession spark = TestSpark.session();

    private Dataset<Row> ratings() {
        return spark.createDataFrame(List.of(
                RowFactory.create("2", "1", 100L),
                RowFactory.create("10", "2", 200L),
                RowFactory.create("2", "3", 300L),
                RowFactory.create("1", "1", 400L)), MovieLensReader.RATINGS);
    }

    private Dataset<Row> movies() {
        return spark.createDataFrame(List.of(
                RowFactory.create("1", "Star Wars (1977)"),
                RowFactory.create("2", "Return of the Jedi (1983)"),
                RowFactory.create("3", "Star Wars (1977)"),          // a duplicate title under another id
                RowFactory.create("4", "Wars, Stars & Jedi!")), MovieLensReader.MOVIES);
    }

    @Test
    void vocabulariesAreSortedDistinctWithOutOfVocabularyAtZero() {
        FeatureSpec spec = FeaturePreprocessor.tutorial(4, 100).fit(ratings(), movies());
        assertEquals(List.of("1", "10", "2"), spec.query().get(0).vocabulary());            // string order, as np.unique
        assertEquals(List.of("Return of the Jedi (1983)", "Star Wars (1977)", "Wars, Stars & Jedi!"), spec.candidate().get(0).vocabulary());
        assertEquals(0, spec.query().get(0).index("77"));
        assertEquals(2, spec.candidate().get(0).index("Star Wars (1977)"));
    }

    @Test
    void tokenVocabularyByDescendingFrequencyThenToken() {
        FeatureSpec spec = FeaturePreprocessor.tutorial(4, 100).fit(ratings(), movies());
        // Counted over the 4 movie records: wars 3, star 2, 1977 2, jedi 2, then singletons alphabetically.
        assertEquals(List.of("", "[UNK]", "wars", "1977", "jedi", "star", "1983", "of", "return", "stars", "the"),
                spec.candidate().get(1).vocabulary());
        assertEquals(5, spec.candidate().get(1).width()); // "return of the jedi 1983"
    }

    @Test
    void tokenVocabularyIsCappedIncludingPaddingAndUnknown() {
        FeatureSpec spec = FeaturePreprocessor.tutorial(4, 5).fit(ratings(), movies());
        assertEquals(List.of("", "[UNK]", "wars", "1977", "jedi"), spec.candidate().get(1).vocabulary());
        assertArrayEquals(new int[]{1, 2, 3}, spec.candidate().get(1).tokenIds("Star Wars (1977)"));
    }

    @Test
    void timestampBoundariesMeanAndVariance() {
        FeatureSpec spec = FeaturePreprocessor.tutorial(4, 100).fit(ratings(), movies());
        FittedFeature time = spec.query().get(1);
        assertArrayEquals(new double[]{100, 200, 300, 400}, time.boundaries(), 1e-9);
        assertEquals(250, time.mean(), 1e-9);
        assertEquals(12_500, time.variance(), 1e-6); // population variance
        assertEquals(1, time.bucket(100));
        assertEquals(4, time.bucket(400));
    }

    @Test
    void rejectsImpossibleSettings() {
        assertThrows(IllegalArgumentException.class, () -> FeaturePreprocessor.tutorial(1, 100));
        assertThrows(IllegalArgumentException.class, () -> FeaturePreprocessor.tutorial(10, 2));
    }
}
