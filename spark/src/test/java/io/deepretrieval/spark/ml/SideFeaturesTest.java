package io.deepretrieval.spark.ml;

import io.deepretrieval.model.serving.Recommendation;
import io.deepretrieval.model.serving.ServingModel;
import io.deepretrieval.model.train.CurvePoint;
import io.deepretrieval.spark.SyntheticMovieLens;
import io.deepretrieval.spark.TestSpark;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Towers built from declared side features only: the query tower reads a user segment (categorical) and an age
 * (numeric), never the user id; the candidate tower reads tag lists (text from an array column), never the item
 * id. The planted signal lives only in segment → tag, so beating chance means the features reached the towers.
 */
class SideFeaturesTest {
    static final int ITEMS = 240;
    static final String[] WORDS = SyntheticMovieLens.WORDS;
    static final StructType SCHEMA = new StructType()
            .add("user", DataTypes.StringType, false)
            .add("segment", DataTypes.StringType, false)
            .add("age", DataTypes.DoubleType, false)
            .add("item", DataTypes.IntegerType, false)
            .add("tags", DataTypes.createArrayType(DataTypes.StringType, false), false);
    @TempDir
    static Path dir;
    static SparkSession spark;
    static Dataset<Row> interactions;
    static TwoTowerRetrievalModel model;

    static TwoTowerRetrieval estimator() {
        return new TwoTowerRetrieval().setUserCol("user").setItemCol("item").setTimestampCol("").setTitleCol("")
                .setQueryFeatures("segment:categorical", "age:numeric")
                .setCandidateFeatures("tag=tags:text:50")
                .setLayerSizes(16).setEmbeddingDim(16).setBatchSize(256).setMaxEpochs(8).setEvalEvery(4)
                .setValidationFraction(0.2).setSeed(3).setStepThreads(1);
    }

    @BeforeAll
    static void fit() {
        spark = TestSpark.session();
        SplittableRandom rng = new SplittableRandom(5);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            int user = rng.nextInt(400);
            int group = user % WORDS.length;
            int item = rng.nextInt(ITEMS / WORDS.length) * WORDS.length + group;
            rows.add(RowFactory.create("u" + user, "s" + group, 20.0 + user % 50, item,
                    List.of(WORDS[item % WORDS.length], "tag" + (item % 7))));
        }
        spark.createDataFrame(rows, SCHEMA).write().parquet(dir.resolve("side.parquet").toString());
        interactions = spark.read().parquet(dir.resolve("side.parquet").toString());
        model = estimator().fit(interactions);
    }

    @Test
    void theSideFeaturesCarryThePlantedSignal() {
        List<CurvePoint> curve = model.validationCurve();
        double chance = 10.0 / ITEMS;
        double top10 = curve.get(curve.size() - 1).accuracy().at(10);
        assertTrue(top10 > 3 * chance, "validation top-10 " + top10 + " should beat chance " + chance + " by 3x");
        assertEquals(List.of("segment", "age"), model.spec().query().stream().map(f -> f.name()).toList());
        assertEquals(List.of("tag_table", "segment_table"), List.of(model.spec().candidate().get(0).tableName(),
                model.spec().query().get(0).tableName()));
    }

    @Test
    void recommendationsForUsersTakeTheirSideColumns() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.recommendForAllUsers(5));
        assertTrue(e.getMessage().contains("knows no users") && e.getMessage().contains("recommendForUserSubset"), e.getMessage());
        Dataset<Row> users = interactions.select("user", "segment", "age").dropDuplicates("user").limit(30);
        List<Row> recs = model.recommendForUserSubset(users, 5).collectAsList();
        assertEquals(30, recs.size());
        // The best item of a user of group g is an item of group g (item % 6 == g): the signal, not chance (1/6).
        int right = 0;
        Map<String, Integer> groupOf = new HashMap<>();
        users.collectAsList().forEach(r -> groupOf.put(r.getString(0), Integer.parseInt(r.getString(1).substring(1))));
        for (Row r : recs) {
            right += ((Row) r.getList(1).get(0)).getInt(0) % WORDS.length == groupOf.get(r.getString(0)) ? 1 : 0;
        }
        assertTrue(right >= 20, right + " of 30 users got an item of their group first");
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> model.recommendForUserSubset(users.drop("age"), 5));
        assertTrue(missing.getMessage().contains("column 'age'"), missing.getMessage());
    }

    @Test
    void aSavedModelWithSideFeaturesLoadsWithTheSameEmbeddings() throws java.io.IOException {
        String path = dir.resolve("side-model").toString();
        model.write().save(path);
        TwoTowerRetrievalModel loaded = TwoTowerRetrievalModel.load(path);
        Map<Integer, List<Object>> before = new HashMap<>();
        model.itemEmbeddings().collectAsList().forEach(r -> before.put(r.getInt(0), r.getList(1)));
        List<Row> after = loaded.itemEmbeddings().collectAsList();
        assertEquals(before.size(), after.size());
        after.forEach(r -> assertEquals(before.get(r.getInt(0)), r.getList(1)));
        Dataset<Row> users = interactions.select("user", "segment", "age").orderBy("user", "segment", "age").limit(10);
        List<Row> a = model.queryEmbeddings(users).collectAsList();
        List<Row> b = loaded.queryEmbeddings(users).collectAsList();
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).getList(a.get(i).fieldIndex("queryEmbedding")),
                    b.get(i).getList(b.get(i).fieldIndex("queryEmbedding")));
        }
    }

    /**
     * Serving without Spark: a user alone gives the side features as unknown (the fitted mean, the out-of-vocabulary
     * segment), which answers rather than fails; given its side columns, a query embeds as {@code transform} does.
     */
    @Test
    void theServingModelAnswersWithSideFeaturesUnknownOrGiven() throws IOException {
        String path = dir.resolve("side-model-to-serve").toString();
        model.write().save(path);
        try (ServingModel serving = SavedModels.load(spark, path).serving()) {
            assertTrue(!serving.knowsUser("u1"), "the query tower reads no user id");
            List<Recommendation> recs = serving.recommend("u1", serving.latestTimestamp(), 5, Set.of());
            assertEquals(5, recs.size());
            Row user = interactions.select("user", "segment", "age").orderBy("user").first();
            float[] given = serving.queryEmbedding(Map.of("segment", user.getString(1), "age", user.getDouble(2)));
            Row embedded = model.queryEmbeddings(interactions.select("user", "segment", "age").orderBy("user").limit(1)).first();
            List<Object> expected = embedded.getList(embedded.fieldIndex("queryEmbedding"));
            for (int d = 0; d < given.length; d++) {
                assertEquals((Float) expected.get(d), given[d], 1e-6f, "dimension " + d);
            }
        }
    }

    @Test
    void aBadFeatureDeclarationIsNamed() {
        IllegalArgumentException kind = assertThrows(IllegalArgumentException.class,
                () -> estimator().setQueryFeatures("segment:cat").fit(interactions));
        assertTrue(kind.getMessage().contains("queryFeatures") && kind.getMessage().contains("unknown kind 'cat'"),
                kind.getMessage());
        IllegalArgumentException column = assertThrows(IllegalArgumentException.class,
                () -> estimator().setQueryFeatures("height:numeric").fit(interactions));
        assertTrue(column.getMessage().contains("column 'height' is missing"), column.getMessage());
        IllegalArgumentException typed = assertThrows(IllegalArgumentException.class,
                () -> estimator().setQueryFeatures("segment:numeric").fit(interactions));
        assertTrue(typed.getMessage().contains("'segment' has type string"), typed.getMessage());
        TwoTowerRetrieval declared = estimator();
        assertArrayEquals(new String[]{"tag=tags:text:50"}, declared.getOrDefault(declared.candidateFeatures()));
    }
}
