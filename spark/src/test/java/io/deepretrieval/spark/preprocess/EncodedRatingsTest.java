package io.deepretrieval.spark.preprocess;

import io.deepretrieval.model.features.CandidateCorpus;
import io.deepretrieval.model.features.FeatureSpec;
import io.deepretrieval.model.features.FittedFeature;
import io.deepretrieval.model.features.Interactions;
import io.deepretrieval.spark.SyntheticMovieLens;
import io.deepretrieval.spark.TestSpark;
import io.deepretrieval.spark.ingest.InputPolicy;
import io.deepretrieval.spark.ingest.MalformedInputException;
import io.deepretrieval.spark.ingest.MovieLensData;
import io.deepretrieval.spark.ingest.MovieLensReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EncodedRatingsTest {
    private final SparkSession spark = TestSpark.session();

    @Test
    void encodedColumnsAreExactlyTheSpecAppliedToEachRow(@TempDir Path dir) throws IOException {
        MovieLensData data = new MovieLensReader(spark).read(SyntheticMovieLens.write100k(dir, 40, 60, 800, 2).toString());
        Dataset<Row> ratings = keyed(data.ratings());
        FeatureSpec spec = FeaturePreprocessor.tutorial(100, 10_000).fit(ratings, data.movies());
        CandidateCorpus corpus = EncodedRatings.corpus(spec, keyed(data.movies()), "title");
        assertEquals(60, corpus.size());
        assertEquals("1", corpus.itemId(0));
        assertEquals("60", corpus.itemId(59));
        Dataset<Row> encoded = EncodedRatings.encode(spark, spec, corpus, ratings);
        assertEquals(List.of("user_id", "item_id", "timestamp", "candidate", "user_index"), List.of(encoded.columns()));
        List<Row> rows = encoded.collectAsList();
        Interactions model = EncodedRatings.collect(encoded, spec);
        FittedFeature user = spec.query().get(0);
        FittedFeature time = spec.query().get(1);
        assertEquals(rows.size(), model.size());
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            long ts = r.getLong(2);
            assertEquals(user.index(r.getString(0)), model.query().ids(0)[i]);
            assertEquals(r.getInt(4), model.query().ids(0)[i], "the ALS baseline's user id is the vocabulary index");
            assertEquals(time.bucket(ts), model.query().ids(1)[i]);
            assertEquals(time.normalized(ts), model.query().values(1)[i]);
            assertEquals(r.getInt(3), model.candidate()[i]);
            assertEquals(r.getString(1), corpus.itemId(r.getInt(3)));
            assertTrue(model.query().ids(0)[i] > 0, "every user of the data is in the vocabulary");
        }
    }

    @Test
    void splitIsSeededDisjointAndSized(@TempDir Path dir) throws IOException {
        MovieLensData data = new MovieLensReader(spark).read(SyntheticMovieLens.write100k(dir, 40, 60, 1000, 3).toString());
        FeatureSpec spec = FeaturePreprocessor.tutorial(100, 10_000).fit(keyed(data.ratings()), data.movies());
        CandidateCorpus corpus = EncodedRatings.corpus(spec, keyed(data.movies()), "title");
        Dataset<Row> encoded = EncodedRatings.encode(spark, spec, corpus, keyed(data.ratings()));
        InteractionSplits.Split a = InteractionSplits.KEYS.random(encoded, 42, 0.2);
        InteractionSplits.Split b = InteractionSplits.KEYS.random(encoded.repartition(5), 42, 0.2);
        assertEquals(800, a.train().count());
        assertEquals(200, a.test().count());
        Interactions testA = EncodedRatings.collect(a.test(), spec);
        Interactions testB = EncodedRatings.collect(b.test(), spec);
        assertEquals(testA.size(), testB.size());
        for (int i = 0; i < testA.size(); i++) {
            assertEquals(testA.candidate()[i], testB.candidate()[i], "partitioning changed the split at row " + i);
            assertEquals(testA.query().values(1)[i], testB.query().values(1)[i]);
        }
        Set<String> train = new HashSet<>();
        a.train().collectAsList().forEach(r -> train.add(r.getString(0) + "/" + r.getString(1) + "/" + r.getLong(2)));
        long overlap = a.test().collectAsList().stream().filter(r -> train.contains(r.getString(0) + "/" + r.getString(1) + "/" + r.getLong(2))).count();
        assertEquals(0, overlap);
        Interactions otherSeed = EncodedRatings.collect(InteractionSplits.KEYS.random(encoded, 7, 0.2).test(), spec);
        int same = 0;
        for (int i = 0; i < otherSeed.size(); i++) {
            same += otherSeed.candidate()[i] == testA.candidate()[i] ? 1 : 0;
        }
        assertTrue(same < otherSeed.size() / 2, "another seed should give another split");
    }

    /** MovieLens's movie_id as the pipeline's item key column, as the Estimator maps its itemCol. */
    private static Dataset<Row> keyed(Dataset<Row> movieLens) {
        return movieLens.withColumnRenamed("movie_id", KeyColumns.ITEM);
    }

    @Test
    void ratingOfAnUnknownMovieIsAnInputError() {
        Dataset<Row> movies = spark.createDataFrame(List.of(RowFactory.create("1", "A (1990)")), MovieLensReader.MOVIES);
        Dataset<Row> ratings = spark.createDataFrame(List.of(RowFactory.create("1", "1", 5L),
                RowFactory.create("1", "99", 6L)), MovieLensReader.RATINGS);
        MalformedInputException e = assertThrows(MalformedInputException.class,
                () -> MovieLensReader.withKnownMovies(ratings, movies, InputPolicy.FAIL_FAST, new java.util.ArrayList<>()));
        assertTrue(e.getMessage().contains("1 ratings reference movies missing from the movies file, e.g. movie ids [99]"), e.getMessage());
    }
}
