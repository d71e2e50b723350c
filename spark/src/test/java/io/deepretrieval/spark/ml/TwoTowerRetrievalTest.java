package io.deepretrieval.spark.ml;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.deepretrieval.model.serving.Recommendation;
import io.deepretrieval.model.serving.ServingModel;
import io.deepretrieval.model.towers.Parameter;
import io.deepretrieval.model.towers.TwoTowerModel;
import io.deepretrieval.model.train.CurvePoint;
import io.deepretrieval.spark.CliProcess;
import io.deepretrieval.spark.SyntheticMovieLens;
import io.deepretrieval.spark.TestSpark;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static io.deepretrieval.spark.BruteForceScores.floats;
import static io.deepretrieval.spark.BruteForceScores.itemEmbeddings;
import static io.deepretrieval.spark.BruteForceScores.ranked;
import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Estimator on a non-MovieLens table: string ids, other column names, Parquet in, a Pipeline around it,
 * saved and loaded in a fresh JVM.
 */
class TwoTowerRetrievalTest {
    static final int USERS = 90;
    static final int ITEMS = 300;
    static final StructType SCHEMA = new StructType()
            .add("customer", DataTypes.StringType, false)
            .add("product", DataTypes.StringType, false)
            .add("seconds", DataTypes.LongType, false)
            .add("product_name", DataTypes.StringType, false);
    @TempDir
    static Path dir;
    static SparkSession spark;
    static Dataset<Row> interactions;
    static PipelineModel fitted;
    static TwoTowerRetrievalModel model;

    /** Customers of group g buy products whose names carry the word of group g (six planted groups). */
    static Dataset<Row> writeParquet(Path path) {
        return writeParquetWith(spark, path, 6000);
    }

    /** {@code n} interactions of the planted groups, written as Parquet and read back. */
    static Dataset<Row> writeParquetWith(SparkSession spark, Path path, int n) {
        SplittableRandom rng = new SplittableRandom(11);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int user = rng.nextInt(USERS);
            int group = user % SyntheticMovieLens.WORDS.length;
            int item = rng.nextInt(ITEMS / SyntheticMovieLens.WORDS.length) * SyntheticMovieLens.WORDS.length + group;
            rows.add(RowFactory.create("c-" + user, "p-" + item, 1_600_000_000L + rng.nextInt(5_000_000),
                    SyntheticMovieLens.title(item + 1)));
        }
        spark.createDataFrame(rows, SCHEMA).write().parquet(path.toString());
        return spark.read().parquet(path.toString());
    }

    static TwoTowerRetrieval estimator() {
        return new TwoTowerRetrieval().setUserCol("customer").setItemCol("product").setTimestampCol("seconds")
                .setTitleCol("product_name").setLayerSizes(16).setEmbeddingDim(16).setBatchSize(256).setMaxEpochs(8)
                .setEvalEvery(4).setValidationFraction(0.2).setSeed(5).setStepThreads(1);
    }

    @BeforeAll
    static void fit() {
        spark = TestSpark.session();
        interactions = writeParquet(dir.resolve("interactions.parquet"));
        fitted = new Pipeline().setStages(new PipelineStage[]{estimator()}).fit(interactions);
        model = (TwoTowerRetrievalModel) fitted.stages()[0];
    }

    @Test
    void learnsThePlantedGroupsOnTheValidationRows() {
        List<CurvePoint> curve = model.validationCurve();
        assertEquals(List.of(4, 8), curve.stream().map(CurvePoint::epoch).toList());
        double chance = 10.0 / ITEMS;
        double top10 = curve.get(curve.size() - 1).accuracy().at(10);
        assertTrue(top10 > 3 * chance, "validation top-10 " + top10 + " should beat chance " + chance + " by 3x");
        // Per-user ranking of the same rows, training items left out: recall@10 of a random ranking is ~10/300.
        io.deepretrieval.spark.eval.RankingMetrics.Result ranking = model.validationRanking();
        assertEquals(10, ranking.k());
        assertTrue(ranking.users() > USERS / 2, ranking.toString());
        assertTrue(ranking.recallAtK() > 3 * chance && ranking.ndcgAtK() > 0, ranking.toString());
    }

    /** Independent brute force: every user's query embedding against every item embedding, in double. */
    private static Map<String, List<Map.Entry<String, Double>>> bruteForce() {
        Map<String, float[]> items = itemEmbeddings(model);
        List<Row> users = new ArrayList<>();
        for (int u = 0; u < USERS; u++) {
            users.add(RowFactory.create("c-" + u, model.latestTimestamp()));
        }
        Dataset<Row> queries = spark.createDataFrame(users, new StructType().add("customer", DataTypes.StringType)
                .add("seconds", DataTypes.LongType));
        Map<String, List<Map.Entry<String, Double>>> byUser = new HashMap<>();
        for (Row r : model.queryEmbeddings(queries).collectAsList()) {
            List<Map.Entry<String, Double>> scores = ranked(items, floats(r.getList(r.fieldIndex("queryEmbedding"))));
            byUser.put(r.getString(0), scores);
        }
        return byUser;
    }

    @Test
    void recommendForAllUsersEqualsPerUserBruteForceWithAlsSchema() {
        int k = 10;
        Dataset<Row> recs = model.recommendForAllUsers(k);
        assertEquals("struct<customer:string,recommendations:array<struct<product:string,score:float>>>",
                recs.schema().simpleString());
        Map<String, List<Map.Entry<String, Double>>> reference = bruteForce();
        List<Row> rows = recs.collectAsList();
        assertEquals(USERS, rows.size());
        for (Row r : rows) {
            List<Map.Entry<String, Double>> expected = reference.get(r.getString(0));
            List<Row> got = r.getList(1);
            assertEquals(k, got.size());
            Map<String, Double> byItem = new HashMap<>();
            expected.forEach(e -> byItem.put(e.getKey(), e.getValue()));
            for (int j = 0; j < k; j++) {
                String item = got.get(j).getString(0);
                float score = got.get(j).getFloat(1);
                // The reported score is the item's, and the j-th best score there is (float vs double order aside).
                assertEquals(byItem.get(item), score, 1e-4, r.getString(0) + " rank " + j + " item " + item);
                assertEquals(expected.get(j).getValue(), score, 1e-4, r.getString(0) + " rank " + j);
            }
        }
    }

    @Test
    void recommendationsCanLeaveOutEachUsersSeenItems() {
        int k = 10;
        Dataset<Row> seen = interactions.select("customer", "product");
        Map<String, java.util.Set<String>> seenBy = new HashMap<>();
        for (Row r : seen.collectAsList()) {
            seenBy.computeIfAbsent(r.getString(0), u -> new java.util.HashSet<>()).add(r.getString(1));
        }
        Map<String, List<Map.Entry<String, Double>>> reference = bruteForce();
        List<Row> rows = model.recommendForAllUsers(k, seen).collectAsList();
        assertEquals(USERS, rows.size());
        int leftOut = 0;
        for (Row r : rows) {
            java.util.Set<String> mine = seenBy.getOrDefault(r.getString(0), java.util.Set.of());
            List<Map.Entry<String, Double>> expected = reference.get(r.getString(0)).stream()
                    .filter(e -> !mine.contains(e.getKey())).toList();
            List<Row> got = r.getList(1);
            assertEquals(k, got.size());
            for (int j = 0; j < k; j++) {
                assertTrue(!mine.contains(got.get(j).getString(0)), r.getString(0) + " got a seen item " + got.get(j));
                assertEquals(expected.get(j).getValue(), got.get(j).getFloat(1), 1e-4, r.getString(0) + " rank " + j);
            }
            leftOut += reference.get(r.getString(0)).subList(0, k).stream().filter(e -> mine.contains(e.getKey())).count() > 0 ? 1 : 0;
        }
        // The planted groups put seen items at the top, so leaving them out must have changed most lists.
        assertTrue(leftOut > USERS / 2, "only " + leftOut + " users had a seen item in their unfiltered top " + k);
    }

    @Test
    void aSavedModelAndASavedPipelineServeTheSameRecommendations() throws Exception {
        Path saved = dir.resolve("model-to-serve");
        model.write().save(saved.toString());
        Path pipeline = dir.resolve("pipeline-to-serve");
        fitted.write().save(pipeline.toString());
        Map<String, List<Map.Entry<String, Double>>> reference = bruteForce();
        try (ServingModel fromModel = SavedModels.load(spark, saved.toString()).serving();
             ServingModel fromPipeline = SavedModels.load(spark, pipeline.toString()).serving()) {
            for (int u = 0; u < USERS; u += 9) {
                String user = "c-" + u;
                List<Recommendation> recs = fromModel.recommend(user, model.latestTimestamp(), 5, Set.of());
                assertTrue(fromModel.knowsUser(user));
                for (int j = 0; j < 5; j++) {
                    assertEquals(reference.get(user).get(j).getValue(), recs.get(j).score(), 1e-4, user + " rank " + j);
                }
                assertTrue(recs.get(0).label().startsWith("The "), "titles come along: " + recs.get(0));
                assertEquals(recs, fromPipeline.recommend(user, model.latestTimestamp(), 5, Set.of()), user);
            }
            assertEquals(model.uid(), fromPipeline.info().get("uid").asText());
            assertEquals(2, fromModel.info().get("formatVersion").asInt());
        }
    }

    @Test
    void transformAddsQueryEmbeddingsAndScoresOfKnownItems() {
        Dataset<Row> out = model.transform(interactions.limit(20));
        assertTrue(List.of(out.columns()).containsAll(List.of("queryEmbedding", "score")), String.join(",", out.columns()));
        Map<String, float[]> items = itemEmbeddings(model);
        for (Row r : out.collectAsList()) {
            float[] q = floats(r.getList(r.fieldIndex("queryEmbedding")));
            float[] v = items.get(r.getString(r.fieldIndex("product")));
            double dot = 0;
            for (int d = 0; d < q.length; d++) {
                dot += (double) q[d] * v[d];
            }
            assertEquals(dot, r.getFloat(r.fieldIndex("score")), 1e-4);
        }
    }

    @Test
    void aMissingOrMistypedColumnIsNamed() {
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> estimator().setItemCol("sku").fit(interactions));
        assertTrue(missing.getMessage().contains("itemCol: column 'sku' is missing"), missing.getMessage());
        Dataset<Row> textTimes = interactions.withColumn("seconds", col("seconds").cast("string"));
        IllegalArgumentException typed = assertThrows(IllegalArgumentException.class,
                () -> estimator().transformSchema(textTimes.schema()));
        assertTrue(typed.getMessage().contains("timestampCol: column 'seconds' has type string"), typed.getMessage());
    }

    @Test
    void anItemWithTwoTitlesIsAClearError() {
        Dataset<Row> clash = interactions.union(spark.createDataFrame(
                List.of(RowFactory.create("c-1", "p-3", 1_600_000_000L, "Another name")), SCHEMA));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> estimator().fit(clash));
        assertTrue(e.getMessage().contains("'p-3' (2 different rows)") && e.getMessage().contains("titleCol 'product_name'"),
                e.getMessage());
    }

    @Test
    void aSavedPipelineLoadsInAFreshJvmWithIdenticalRecommendations() throws Exception {
        Path saved = dir.resolve("pipeline");
        fitted.write().save(saved.toString());
        Path out = dir.resolve("fresh-recs.json");
        Path log = dir.resolve("fresh.log");
        Process p = CliProcess.startMain(LoadAndRecommend.class.getName(), List.of(), log,
                saved.toString(), out.toString(), "10");
        assertTrue(p.waitFor(3, TimeUnit.MINUTES), () -> "the fresh JVM did not finish:\n" + CliProcess.read(log));
        assertEquals(0, p.exitValue(), () -> CliProcess.read(log));
        Map<String, List<Row>> here = new HashMap<>();
        for (Row r : model.recommendForAllUsers(10).collectAsList()) {
            here.put(r.getString(0), r.getList(1));
        }
        List<Row> there = spark.read().schema(model.recommendationSchema()).json(out.toString()).collectAsList();
        assertEquals(USERS, there.size());
        for (Row r : there) {
            // The same items in the same order; scores equal up to float rounding, since ND4J's GEMM sums in an order
            // that depends on its thread count, which earlier tests in this JVM may have set differently.
            List<Row> expected = here.get(r.getString(0));
            List<Row> got = r.getList(1);
            assertEquals(expected.stream().map(x -> x.getString(0)).toList(), got.stream().map(x -> x.getString(0)).toList(),
                    "user " + r.getString(0));
            for (int i = 0; i < got.size(); i++) {
                float e = expected.get(i).getFloat(1);
                assertEquals(e, got.get(i).getFloat(1), 1e-6 * Math.max(1, Math.abs(e)), "user " + r.getString(0));
            }
        }
        // The loaded params are the fitted ones.
        PipelineModel loaded = PipelineModel.load(saved.toString());
        TwoTowerRetrievalModel again = (TwoTowerRetrievalModel) loaded.stages()[0];
        assertEquals(model.uid(), again.uid());
        assertEquals("product_name", again.getOrDefault(again.titleCol()));
        // The one format: Spark's metadata, JSON and Parquet; no SameDiff graph files beside them.
        Path stage = saved.resolve("stages").toFile().listFiles()[0].toPath();
        try (Stream<Path> top = Files.list(stage); Stream<Path> data = Files.list(stage.resolve("data"))) {
            assertEquals(List.of("data", "metadata"), top.map(f -> f.getFileName().toString()).filter(n -> !n.startsWith("."))
                    .sorted().toList());
            assertEquals(List.of("candidates", "feature-spec.json", "item-embeddings", "model.json", "parameters"),
                    data.map(f -> f.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList());
        }
    }

    @Test
    void theUnfittedEstimatorSavesAndLoadsItsParams() throws Exception {
        String path = dir.resolve("estimator").toString();
        TwoTowerRetrieval e = estimator().setLayerSizes(64, 32);
        e.save(path);
        TwoTowerRetrieval back = TwoTowerRetrieval.load(path);
        assertEquals(e.uid(), back.uid());
        assertEquals(List.of(64, 32), java.util.Arrays.stream(back.getOrDefault(back.layerSizes())).boxed().toList());
        assertEquals("customer", back.getOrDefault(back.userCol()));
    }

    @Test
    void aSavedModelKeepsServingStateOnlyByNameAndItsLoadChecksTheLayout() throws Exception {
        // The fitted model keeps no optimizer state, and neither does its saved form.
        assertNull(model.parameters().accumulators(), "the fitted model's Adagrad accumulators");
        Path saved = dir.resolve("model-by-name");
        model.write().save(saved.toString());
        assertEquals(List.of("name", "chunk", "values"),
                Arrays.asList(spark.read().parquet(saved.resolve("data/parameters").toString()).columns()));
        // model.json lists the parameters of the model that the saved settings build, by name and shape, in order.
        TwoTowerModel towers = new TwoTowerModel(model.config(), model.spec());
        JsonNode settings = new ObjectMapper().readTree(saved.resolve("data/model.json").toFile());
        assertEquals(2, settings.get("formatVersion").asInt());
        JsonNode params = settings.get("parameters");
        assertEquals(towers.parameters().size(), params.size());
        int i = 0;
        for (Parameter p : towers.parameters().values()) {
            assertEquals(p.name(), params.get(i).get("name").asText());
            assertArrayEquals(p.shape(), new ObjectMapper().treeToValue(params.get(i++).get("shape"), long[].class));
        }
        // Loaded, each parameter holds the fitted values: the fitted state is flat in the model's parameter order.
        TwoTowerModel loaded = new TwoTowerModel(model.config(), model.spec());
        TwoTowerRetrievalModel.load(saved.toString()).parameters().applyTo(loaded);
        float[] fitted = model.parameters().values();
        int offset = 0;
        for (Parameter p : loaded.parameters().values()) {
            assertArrayEquals(Arrays.copyOfRange(fitted, offset, offset + p.values().length), p.values(), p.name());
            offset += p.values().length;
        }
        assertEquals(fitted.length, offset);

        // The first two tables' shapes swapped: the same total, so only the layout check can tell.
        String first = params.get(0).get("name").asText();
        String swappedError = loadError(saved, "swapped", h -> {
            ArrayNode list = (ArrayNode) h.get("parameters");
            JsonNode shape = list.get(0).get("shape");
            ((ObjectNode) list.get(0)).set("shape", list.get(1).get("shape"));
            ((ObjectNode) list.get(1)).set("shape", shape);
        });
        assertTrue(swappedError.contains("model.json") && swappedError.contains("'" + first + "' has shape"), swappedError);
        String renamed = loadError(saved, "renamed", h -> ((ObjectNode) h.get("parameters").get(0)).put("name", "other"));
        assertTrue(renamed.contains("no parameter '" + first + "'"), renamed);
        String future = loadError(saved, "future", h -> h.put("formatVersion", 99));
        assertTrue(future.contains("model format 99 is not supported (this build reads 2)"), future);
        String old = loadError(saved, "format1", h -> h.put("formatVersion", 1));
        assertTrue(old.contains("model format 1") && old.contains("without names or shapes"), old);
    }

    /** The message of loading a copy of {@code saved} whose model.json was edited. */
    private static String loadError(Path saved, String name, Consumer<ObjectNode> edit) throws IOException {
        Path copy = dir.resolve("tampered-" + name);
        try (Stream<Path> files = Files.walk(saved)) {
            for (Path f : files.toList()) {
                Files.copy(f, copy.resolve(saved.relativize(f).toString()));
            }
        }
        Path settings = copy.resolve("data/model.json");
        ObjectNode h = (ObjectNode) new ObjectMapper().readTree(settings.toFile());
        edit.accept(h);
        Files.writeString(settings, new ObjectMapper().writeValueAsString(h));
        Files.delete(copy.resolve("data/.model.json.crc")); // Hadoop's local checksum of the original
        return assertThrows(RuntimeException.class, () -> TwoTowerRetrievalModel.load(copy.toString())).getMessage();
    }
}
