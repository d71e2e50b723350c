package io.deepretrieval.spark.ml;

import io.deepretrieval.spark.CliProcess;
import io.deepretrieval.spark.TestSpark;
import org.apache.spark.ml.evaluation.RegressionEvaluator;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.tuning.CrossValidator;
import org.apache.spark.ml.tuning.CrossValidatorModel;
import org.apache.spark.ml.tuning.ParamGridBuilder;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.deepretrieval.spark.BruteForceScores.floats;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Models fitted one after another in one JVM (a refit with other settings, the folds of a {@link CrossValidator})
 * each answer with their own towers: their query embeddings equal those of the same model saved and loaded in a
 * fresh JVM, where no other model was ever built.
 */
class RefitServingTest {
    @TempDir
    static Path dir;
    static SparkSession spark;
    static Dataset<Row> interactions;
    static Dataset<Row> queries;

    @BeforeAll
    static void data() {
        spark = TestSpark.session();
        interactions = TwoTowerRetrievalTest.writeParquetWith(spark, dir.resolve("interactions.parquet"), 2000);
        queries = interactions.select("customer", "seconds").dropDuplicates("customer");
        queries.write().parquet(dir.resolve("queries.parquet").toString());
        queries = spark.read().parquet(dir.resolve("queries.parquet").toString());
    }

    private static TwoTowerRetrieval estimator() {
        return TwoTowerRetrievalTest.estimator().setValidationFraction(0).setMaxEpochs(2);
    }

    @Test
    void aSecondFitOfOneEstimatorAnswersWithItsOwnTowers() throws Exception {
        TwoTowerRetrieval estimator = estimator();
        TwoTowerRetrievalModel first = estimator.fit(interactions);
        Map<String, float[]> firstHere = embeddings(first);
        TwoTowerRetrievalModel second = estimator.setSeed(6).setMaxEpochs(3).setLayerSizes(24, 16).fit(interactions);
        assertEquals(first.uid(), second.uid(), "a model takes its estimator's uid, as in Spark ML");
        Map<String, float[]> secondHere = embeddings(second);
        assertTrue(maxDifference(firstHere, secondHere) > 1e-3, "the two fits should differ");

        Map<String, Map<String, float[]>> fresh = inFreshJvm(Map.of("first", first, "second", second));
        assertClose(fresh.get("first"), firstHere, "first fit");
        assertClose(fresh.get("second"), secondHere, "second fit");
        // The first model still answers with its own towers after the second was built.
        assertClose(fresh.get("first"), embeddings(first), "first fit, asked again");
    }

    @Test
    void everyCrossValidationModelAnswersWithItsOwnTowers() throws Exception {
        // drop: a fold's model does not know the items only its validation fold has; their NaN would poison the metric.
        TwoTowerRetrieval estimator = estimator().setColdStartStrategy("drop");
        ParamMap[] grid = new ParamGridBuilder().addGrid(estimator.maxEpochs(), new int[]{1, 3}).build();
        CrossValidator cv = new CrossValidator().setEstimator(estimator).setEstimatorParamMaps(grid).setNumFolds(2)
                .setSeed(3).setCollectSubModels(true)
                .setEvaluator(new RegressionEvaluator().setLabelCol("label").setPredictionCol("score"));
        CrossValidatorModel fitted = cv.fit(interactions.withColumn("label", lit(1.0f)));
        Map<String, TwoTowerRetrievalModel> models = new HashMap<>();
        models.put("best", (TwoTowerRetrievalModel) fitted.bestModel());
        for (int fold = 0; fold < 2; fold++) {
            for (int g = 0; g < grid.length; g++) {
                models.put("fold" + fold + "-grid" + g, (TwoTowerRetrievalModel) fitted.subModels()[fold][g]);
            }
        }
        Map<String, Map<String, float[]>> here = new HashMap<>();
        models.forEach((name, m) -> here.put(name, embeddings(m)));
        assertTrue(maxDifference(here.get("fold0-grid0"), here.get("fold0-grid1")) > 1e-3,
                "1 and 3 epochs should give other towers");
        Map<String, Map<String, float[]>> fresh = inFreshJvm(models);
        for (String name : models.keySet()) {
            assertClose(fresh.get(name), here.get(name), name);
        }
    }

    @Test
    void coldStartStrategySaysWhatHappensToUnknownUsersAndItems() {
        TwoTowerRetrievalModel model = estimator().setMaxEpochs(1).fit(interactions);
        assertEquals("nan", model.getOrDefault(model.coldStartStrategy()));
        List<Row> rows = List.of(RowFactory.create("c-1", "p-0", 1_600_000_000L), RowFactory.create("c-1", "no-such-item", 1_600_000_000L),
                RowFactory.create("no-such-user", "p-0", 1_600_000_000L));
        Dataset<Row> pairs = spark.createDataFrame(rows, new StructType().add("customer", DataTypes.StringType)
                .add("product", DataTypes.StringType).add("seconds", DataTypes.LongType));
        Map<String, Float> nan = new HashMap<>();
        for (Row r : model.transform(pairs).collectAsList()) {
            nan.put(r.getString(0) + "/" + r.getString(1), r.getFloat(r.fieldIndex("score")));
        }
        assertEquals(3, nan.size());
        assertTrue(Float.isFinite(nan.get("c-1/p-0")) && Float.isFinite(nan.get("no-such-user/p-0")), nan.toString());
        assertTrue(Float.isNaN(nan.get("c-1/no-such-item")), nan.toString());
        List<Row> kept = model.copy(new ParamMap()).setColdStartStrategy("drop").transform(pairs).collectAsList();
        assertEquals(List.of("c-1/p-0"), kept.stream().map(r -> r.getString(0) + "/" + r.getString(1)).toList());

        Dataset<Row> users = pairs.select("customer", "seconds");
        assertEquals(2, model.recommendForUserSubset(users, 5).count(), "nan: the unknown user is recommended for");
        List<Row> known = model.copy(new ParamMap()).setColdStartStrategy("drop").recommendForUserSubset(users, 5).collectAsList();
        assertEquals(List.of("c-1"), known.stream().map(r -> r.getString(0)).toList());
    }

    /** Saves the models and loads each in one fresh JVM, which writes their query embeddings. */
    private static Map<String, Map<String, float[]>> inFreshJvm(Map<String, TwoTowerRetrievalModel> models) throws Exception {
        Path root = dir.resolve("fresh-" + System.nanoTime());
        List<String> args = new ArrayList<>(List.of(dir.resolve("queries.parquet").toString()));
        for (Map.Entry<String, TwoTowerRetrievalModel> e : models.entrySet()) {
            e.getValue().write().save(root.resolve(e.getKey()).toString());
            args.add(root.resolve(e.getKey()).toString());
            args.add(root.resolve(e.getKey() + ".json").toString());
        }
        Path log = root.resolve("fresh.log");
        Process p = CliProcess.startMain(QueryEmbeddingsOf.class.getName(), List.of(), log, args.toArray(String[]::new));
        assertTrue(p.waitFor(3, TimeUnit.MINUTES), () -> "the fresh JVM did not finish:\n" + CliProcess.read(log));
        assertEquals(0, p.exitValue(), () -> CliProcess.read(log));
        Map<String, Map<String, float[]>> out = new HashMap<>();
        for (String name : models.keySet()) {
            Map<String, float[]> byUser = new HashMap<>();
            for (Row r : spark.read().json(root.resolve(name + ".json").toString()).collectAsList()) {
                byUser.put(r.getString(r.fieldIndex("customer")), floats(r.getList(r.fieldIndex("queryEmbedding"))));
            }
            out.put(name, byUser);
        }
        return out;
    }

    private static Map<String, float[]> embeddings(TwoTowerRetrievalModel model) {
        Map<String, float[]> byUser = new HashMap<>();
        for (Row r : model.queryEmbeddings(queries).select(col("customer"), col("queryEmbedding")).collectAsList()) {
            byUser.put(r.getString(0), floats(r.getList(1)));
        }
        return byUser;
    }

    private static double maxDifference(Map<String, float[]> a, Map<String, float[]> b) {
        assertEquals(a.keySet(), b.keySet());
        double max = 0;
        for (String user : a.keySet()) {
            float[] x = a.get(user);
            float[] y = b.get(user);
            if (x.length != y.length) {
                return Double.POSITIVE_INFINITY;
            }
            for (int i = 0; i < x.length; i++) {
                max = Math.max(max, Math.abs(x[i] - y[i]));
            }
        }
        return max;
    }

    /** Equal up to float rounding (ND4J's GEMM sums in an order that depends on its thread count). */
    private static void assertClose(Map<String, float[]> expected, Map<String, float[]> actual, String what) {
        assertEquals(queries.count(), expected.size(), what);
        double diff = maxDifference(expected, actual);
        assertTrue(diff < 1e-4, what + ": query embeddings differ from a fresh JVM's load by up to " + diff);
    }
}
