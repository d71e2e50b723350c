package io.deepretrieval.spark.ml;

import io.deepretrieval.spark.BruteForceScores;
import io.deepretrieval.spark.TestSpark;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The model's recommendations column and {@link RetrievalEvaluator}: the column equals a brute-force ranking of the
 * row's query embedding, the evaluator's figures equal ones worked out by hand, and {@code CrossValidator} with it
 * picks a trained setting over an untrained one.
 */
class RetrievalEvaluatorTest {
    @TempDir
    static Path dir;

    private static final StructType HIT = new StructType().add("item", DataTypes.StringType).add("score", DataTypes.FloatType);
    private static final StructType ROWS = new StructType().add("user", DataTypes.StringType)
            .add("item", DataTypes.StringType).add("ts", DataTypes.LongType)
            .add("recommendations", DataTypes.createArrayType(HIT));

    private static Row[] hits(String... items) {
        Row[] out = new Row[items.length];
        for (int i = 0; i < items.length; i++) {
            out[i] = RowFactory.create(items[i], (float) (items.length - i));
        }
        return out;
    }

    @Test
    void figuresEqualOnesWorkedOutByHand() {
        SparkSession spark = TestSpark.session();
        // u1 holds a and b; its latest row (ts 5) recommends a, x, b. u2 holds c; its row recommends y, c.
        Dataset<Row> rows = spark.createDataFrame(List.of(
                RowFactory.create("u1", "a", 1L, hits("x", "y", "z")),
                RowFactory.create("u1", "b", 5L, hits("a", "x", "b")),
                RowFactory.create("u2", "c", 3L, hits("y", "c"))), ROWS);
        RetrievalEvaluator evaluator = new RetrievalEvaluator().setTimestampCol("ts").setK(2);
        // k = 2. u1: hit at 1 of 2 relevant: recall 1/2, NDCG 1 / (1 + 1/log2 3). u2: hit at 2 of 1: recall 1,
        // NDCG (1/log2 3) / 1.
        double log2of3 = Math.log(3) / Math.log(2);
        assertEquals((0.5 + 1) / 2, evaluator.setMetricName("recallAtK").evaluate(rows), 1e-9);
        assertEquals((1 / (1 + 1 / log2of3) + 1 / log2of3) / 2, evaluator.setMetricName("ndcgAtK").evaluate(rows), 1e-9);
        assertEquals((0.5 + 0.5) / 2, evaluator.setMetricName("precisionAtK").evaluate(rows), 1e-9);
        assertTrue(evaluator.isLargerBetter());

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new RetrievalEvaluator().evaluate(rows.drop("recommendations")));
        assertTrue(e.getMessage().startsWith("RetrievalEvaluator: column 'recommendations' is missing"), e.getMessage());
    }

    @Test
    void crossValidationRanksByTheEvaluatorAndTheColumnEqualsABruteForceRanking() {
        SparkSession spark = TestSpark.session();
        Dataset<Row> interactions = TwoTowerRetrievalTest.writeParquetWith(spark, dir.resolve("cv.parquet"), 3000);
        TwoTowerRetrieval towers = TwoTowerRetrievalTest.estimator().setValidationFraction(0).setMaxEpochs(6)
                .setColdStartStrategy("drop").setRecommendationsCol("recommendations").setRecommendationsK(10);
        // A rate so small the towers stay at their initialisation against the default one.
        ParamMap[] grid = new ParamGridBuilder().addGrid(towers.learningRate(), new double[]{1e-6, 0.1}).build();
        RetrievalEvaluator evaluator = new RetrievalEvaluator().setUserCol("customer").setItemCol("product")
                .setTimestampCol("seconds").setMetricName("recallAtK");
        CrossValidatorModel cv = new CrossValidator().setEstimator(towers).setEstimatorParamMaps(grid)
                .setEvaluator(evaluator).setNumFolds(2).setSeed(3).fit(interactions);
        double[] recall = cv.avgMetrics();
        // Chance: 10 of 300 items, against each user's items spread over their group's 50.
        double chance = 10.0 / TwoTowerRetrievalTest.ITEMS;
        assertTrue(recall[1] > 5 * chance, "trained recall@10 " + recall[1] + " against chance " + chance);
        assertTrue(recall[1] > recall[0] + 0.05, "trained " + recall[1] + " against untrained " + recall[0]);
        TwoTowerRetrievalModel best = (TwoTowerRetrievalModel) cv.bestModel();
        assertEquals(0.1, best.parent().getOrDefault(towers.learningRate()));

        // Each row's recommendations: its query embedding's 10 best items by a brute-force ranking.
        Map<String, float[]> items = BruteForceScores.itemEmbeddings(best);
        for (Row r : best.transform(interactions.limit(20)).collectAsList()) {
            List<String> expected = BruteForceScores.topIds(items,
                    BruteForceScores.floats(r.getList(r.fieldIndex("queryEmbedding"))), 10);
            List<String> got = r.<Row>getList(r.fieldIndex("recommendations")).stream().map(h -> h.getString(0)).toList();
            assertEquals(expected, got);
        }
    }
}
