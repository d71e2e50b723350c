package io.deepretrieval.spark.ml;

import io.deepretrieval.model.train.CurvePoint;
import io.deepretrieval.spark.BruteForceScores;
import io.deepretrieval.spark.TestSpark;
import io.deepretrieval.spark.eval.RankingMetrics;
import io.deepretrieval.spark.preprocess.KeyColumns;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.param.ParamMap;
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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code fit}'s train and evaluate steps on their own: together they give fit's model and ranking; evaluate's
 * figures equal a per-user ranking computed here from the embeddings; after a model's release, it, its copies and
 * the results it returned before still answer.
 */
class TrainAndEvaluateStepsTest {
    @TempDir
    static Path dir;
    static SparkSession spark;
    static Dataset<Row> interactions;

    @BeforeAll
    static void data() {
        spark = TestSpark.session();
        interactions = TwoTowerRetrievalTest.writeParquetWith(spark, dir.resolve("interactions.parquet"), 3000);
    }

    @Test
    void trainThenEvaluateIsFitAndEvaluateMatchesABruteForceRanking() {
        TwoTowerRetrieval estimator = TwoTowerRetrievalTest.estimator();
        TwoTowerRetrievalModel fitted = estimator.fit(interactions);
        try (PreparedInteractions prepared = estimator.prepare(interactions)) {
            TwoTowerRetrievalModel trained = estimator.train(prepared);
            assertEquals(null, trained.validationRanking(), "the ranking is evaluate's, not train's");
            assertEquals(withoutTimes(fitted.validationCurve()), withoutTimes(trained.validationCurve()));
            Map<String, float[]> items = BruteForceScores.itemEmbeddings(trained);
            BruteForceScores.itemEmbeddings(fitted).forEach((id, v) -> assertArrayEquals(v, items.get(id), id));

            RankingMetrics.Result result = estimator.evaluate(trained, prepared);
            RankingMetrics.Result fits = fitted.validationRanking();
            assertEquals(fits.users(), result.users());
            assertEquals(fits.recallAtK(), result.recallAtK(), 1e-12, "the same sum in another order at most");
            assertEquals(fits.ndcgAtK(), result.ndcgAtK(), 1e-12);
            // Oracle: each validation user's query at the latest fitted time against every item, training items left out.
            Map<String, Set<String>> seen = itemsByUser(prepared.trainRows());
            Map<String, Set<String>> relevant = itemsByUser(prepared.heldOutRows());
            List<Row> queries = new ArrayList<>();
            relevant.keySet().forEach(u -> queries.add(RowFactory.create(u, trained.latestTimestamp())));
            Dataset<Row> q = spark.createDataFrame(queries, new StructType().add("customer", DataTypes.StringType)
                    .add("seconds", DataTypes.LongType));
            double recall = 0;
            double ndcg = 0;
            int k = result.k();
            for (Row r : trained.queryEmbeddings(q).collectAsList()) {
                String user = r.getString(0);
                Set<String> truth = relevant.get(user);
                List<String> top = BruteForceScores.ranked(items, BruteForceScores.floats(r.getList(r.fieldIndex("queryEmbedding"))))
                        .stream().map(Map.Entry::getKey).filter(i -> !seen.getOrDefault(user, Set.of()).contains(i))
                        .limit(k).toList();
                double dcg = 0;
                double ideal = 0;
                int hits = 0;
                for (int i = 0; i < k; i++) {
                    if (i < top.size() && truth.contains(top.get(i))) {
                        hits++;
                        dcg += 1 / Math.log(i + 2);
                    }
                    if (i < truth.size()) {
                        ideal += 1 / Math.log(i + 2);
                    }
                }
                recall += (double) hits / truth.size();
                ndcg += dcg / ideal;
            }
            assertEquals(relevant.size(), result.users());
            assertEquals(recall / relevant.size(), result.recallAtK(), 5e-3, "recall@" + k);
            assertEquals(ndcg / relevant.size(), result.ndcgAtK(), 5e-3, "NDCG@" + k);
            assertTrue(result.recallAtK() > 3.0 * k / TwoTowerRetrievalTest.ITEMS, result.toString());

            IllegalArgumentException noK = assertThrows(IllegalArgumentException.class,
                    () -> estimator.copy(new ParamMap()).setRankingK(0).evaluate(trained, prepared));
            assertTrue(noK.getMessage().contains("rankingK > 0"), noK.getMessage());
        }
    }

    @Test
    void afterReleaseTheModelItsCopiesAndEarlierResultsStillAnswer() {
        TwoTowerRetrievalModel model = TwoTowerRetrievalTest.estimator().setMaxEpochs(2).setValidationFraction(0)
                .fit(interactions);
        Dataset<Row> users = interactions.select("customer", "seconds").limit(20);
        Dataset<Row> lazy = model.queryEmbeddings(users).orderBy("customer", "seconds"); // planned, not yet run
        List<Row> before = model.queryEmbeddings(users).orderBy("customer", "seconds").collectAsList();
        TwoTowerRetrievalModel copy = model.copy(new ParamMap());
        Broadcast<?> first = model.state(spark);
        long cachedBefore = spark.sparkContext().getPersistentRDDs().size();
        model.release();
        assertEquals(before, lazy.collectAsList(), "a result planned before the release");
        assertEquals(before, copy.queryEmbeddings(users).orderBy("customer", "seconds").collectAsList());
        assertSame(first, copy.state(spark), "one broadcast for the model and its copies, kept in the driver");
        model.release();
        assertEquals(before, model.queryEmbeddings(users).orderBy("customer", "seconds").collectAsList());
        assertTrue(spark.sparkContext().getPersistentRDDs().size() <= cachedBefore);
    }

    /** A curve's epochs, losses and accuracies (its training times differ between runs). */
    private static List<String> withoutTimes(List<CurvePoint> curve) {
        return curve.stream().map(p -> p.epoch() + " " + p.meanLoss() + " " + p.accuracy()).toList();
    }

    private static Map<String, Set<String>> itemsByUser(Dataset<Row> rows) {
        Map<String, Set<String>> out = new HashMap<>();
        for (Row r : rows.select(col(KeyColumns.USER).cast("string"), col(KeyColumns.ITEM).cast("string")).collectAsList()) {
            out.computeIfAbsent(r.getString(0), u -> new HashSet<>()).add(r.getString(1));
        }
        return out;
    }
}
