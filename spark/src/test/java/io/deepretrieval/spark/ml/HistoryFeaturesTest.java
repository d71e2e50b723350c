package io.deepretrieval.spark.ml;

import io.deepretrieval.model.train.CurvePoint;
import io.deepretrieval.spark.TestSpark;
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
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;

import static io.deepretrieval.spark.BruteForceScores.floats;
import static io.deepretrieval.spark.BruteForceScores.itemEmbeddings;
import static io.deepretrieval.spark.BruteForceScores.ranked;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A query tower that reads the user's recent items, through the Estimator. On planted sequences (item next[i] always
 * follows item i) held out by a temporal cut-off that only users who start after it fall behind (so their ids carry
 * no signal: the model never saw them), it finds each held-out row's next item from the row's history far above
 * chance, where the id-only tower cannot. A user it never saw, given a history, gets recommendations that equal a
 * brute-force score of that history's query embedding; the kept histories survive save and load; and a held-out row
 * never reads its own item (planted: with the target in its history, recall would be 1).
 */
class HistoryFeaturesTest {
    static final int ITEMS = 80;
    static final int USERS = 300;
    static final int STEPS = 14;
    static final int EARLY_USERS = USERS * 3 / 5;
    static final double CHANCE_TOP10 = 10.0 / ITEMS;
    static final StructType SCHEMA = new StructType().add("user", DataTypes.StringType, false)
            .add("item", DataTypes.StringType, false).add("ts", DataTypes.LongType, false);
    @TempDir
    static Path dir;
    static SparkSession spark;
    static int[] next = new int[ITEMS];
    static Dataset<Row> sequences;
    static TwoTowerRetrievalModel history;
    static TwoTowerRetrievalModel idOnly;

    static TwoTowerRetrieval estimator(String... queryFeatures) {
        return new TwoTowerRetrieval().setUserCol("user").setItemCol("item").setTimestampCol("ts").setTitleCol("")
                .setQueryFeatures(queryFeatures).setCandidateFeatures("item:categorical")
                .setLayerSizes(32).setEmbeddingDim(16).setBatchSize(128).setMaxEpochs(12).setEvalEvery(12)
                .setValidationSplit("temporal").setValidationFraction(0.4).setRankingK(10).setSeed(3).setStepThreads(1);
    }

    @BeforeAll
    static void fit() {
        spark = TestSpark.session();
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < ITEMS; i++) {
            order.add(i);
        }
        Collections.shuffle(order, new Random(7));
        for (int i = 0; i < ITEMS; i++) {
            next[order.get(i)] = order.get((i + 1) % ITEMS);
        }
        SplittableRandom rng = new SplittableRandom(11);
        List<Row> rows = new ArrayList<>();
        for (int u = 0; u < USERS; u++) {
            int at = rng.nextInt(ITEMS);
            // 60% of the users (60% of the rows) before the cut-off, the rest after it: new users at test time.
            long t = (u < EARLY_USERS ? 1_000_000L : 5_000_000L) + rng.nextInt(1000);
            for (int s = 0; s < STEPS; s++) {
                rows.add(RowFactory.create("u" + u, "i" + at, t));
                at = next[at];
                t += 1 + rng.nextInt(100);
            }
        }
        spark.createDataFrame(rows, SCHEMA).write().parquet(dir.resolve("seq.parquet").toString());
        sequences = spark.read().parquet(dir.resolve("seq.parquet").toString());
        history = estimator("user:categorical", "recent=item:history:3:shareWith=item").fit(sequences);
        idOnly = estimator("user:categorical").fit(sequences);
    }

    @Test
    void theHistoryTowerFindsTheNextItemOfUnseenUsersAndTheIdTowerCannot() {
        double withHistory = lastTop10(history);
        double ids = lastTop10(idOnly);
        String figures = "held-out rows of unseen users, top-10: history " + withHistory + ", id only " + ids
                + " (chance " + CHANCE_TOP10 + ")";
        assertTrue(withHistory > 5 * CHANCE_TOP10, figures);
        assertTrue(ids < 2 * CHANCE_TOP10, figures);
    }

    private static double lastTop10(TwoTowerRetrievalModel model) {
        List<CurvePoint> curve = model.validationCurve();
        return curve.get(curve.size() - 1).accuracy().at(10);
    }

    @Test
    void anUnseenUserWithAHistoryIsRecommendedFromItExactly() {
        StructType schema = new StructType().add("user", DataTypes.StringType, false)
                .add("recent", DataTypes.createArrayType(DataTypes.StringType, false), false);
        int a = 5;
        int b = next[a];
        int c = next[b];
        Dataset<Row> stranger = spark.createDataFrame(List.<Row>of(RowFactory.create("stranger",
                List.of("i" + a, "i" + b, "i" + c))), schema);
        List<Row> recs = history.recommendForUserSubset(stranger, 10).collectAsList();
        assertEquals(1, recs.size());
        List<Row> got = recs.get(0).getList(1);
        // The oracle: the query embedding of the same row scored against every item embedding, sorted here.
        float[] q = floats(history.queryEmbeddings(stranger).collectAsList().get(0).getList(2));
        List<Map.Entry<String, Double>> scored = ranked(itemEmbeddings(history), q);
        for (int i = 0; i < 10; i++) {
            assertEquals(scored.get(i).getKey(), got.get(i).getString(0), "rank " + (i + 1));
            assertEquals(scored.get(i).getValue(), got.get(i).getFloat(1), 1e-4);
        }
        List<String> ids = got.stream().map(r -> r.getString(0)).toList();
        assertTrue(ids.contains("i" + next[c]), "the planted next item i" + next[c] + " is not in " + ids);
    }

    @Test
    void knownUsersAreRecommendedFromTheirKeptHistoryAlsoAfterALoad() throws Exception {
        assertEquals(EARLY_USERS, history.userHistories().count(), "one kept history per training user");
        Row kept = history.userHistories().filter("user = 'u7'").first();
        assertEquals(3, kept.getList(1).size());
        Path saved = dir.resolve("history-model");
        history.write().save(saved.toString());
        TwoTowerRetrievalModel loaded = TwoTowerRetrievalModel.load(saved.toString());
        Map<String, List<String>> before = top(history.recommendForAllUsers(5));
        Map<String, List<String>> after = top(loaded.recommendForAllUsers(5));
        assertEquals(history.featureSpec().userFeature().vocabulary().size(), before.size(), "every user the model knows");
        assertEquals(before, after);
        // Asked without a history column, a known user reads the kept one: the same as passing it explicitly.
        Dataset<Row> explicit = history.userHistories().filter("user = 'u7'").withColumnRenamed("history", "recent");
        assertEquals(before.get("u7"), top(history.recommendForUserSubset(explicit, 5)).get("u7"));
    }

    @Test
    void recommendForQueriesAnswersEachRowOnItsOwnAsTheSubsetOfThatRowAlone() {
        StructType schema = new StructType().add("query", DataTypes.StringType, false)
                .add("user", DataTypes.StringType, false)
                .add("recent", DataTypes.createArrayType(DataTypes.StringType, false), false);
        List<Row> rows = List.of(RowFactory.create("q1", "u3", List.of("i1", "i2")),
                RowFactory.create("q2", "u3", List.of("i5")), RowFactory.create("q3", "stranger", List.<String>of()));
        Map<String, List<String>> byQuery = new HashMap<>();
        for (Row r : history.recommendForQueries(spark.createDataFrame(rows, schema), "query", 5).collectAsList()) {
            byQuery.put(r.getString(0), r.<Row>getList(1).stream().map(x -> x.getString(0)).toList());
        }
        assertEquals(3, byQuery.size(), "one answer per row, two of them for the same user");
        for (Row r : rows) {
            Dataset<Row> alone = spark.createDataFrame(List.of(r), schema).drop("query");
            assertEquals(top(history.recommendForUserSubset(alone, 5)).get(r.getString(1)), byQuery.get(r.getString(0)),
                    "query " + r.getString(0));
        }
        assertTrue(!byQuery.get("q1").equals(byQuery.get("q2")), "the same user, other histories: " + byQuery);
    }

    @Test
    void aHeldOutRowNeverReadsItsOwnItem() {
        // Random items with no structure: only a history holding the target itself could predict it.
        SplittableRandom rng = new SplittableRandom(3);
        List<Row> rows = new ArrayList<>();
        for (int u = 0; u < 200; u++) {
            for (int s = 0; s < 8; s++) {
                rows.add(RowFactory.create("u" + u, "i" + rng.nextInt(ITEMS), 100L + s));
            }
        }
        Dataset<Row> random = spark.createDataFrame(rows, SCHEMA);
        TwoTowerRetrievalModel model = estimator("last=item:history:1:shareWith=item")
                .setValidationSplit("lastN").setValidationLastN(1).fit(random);
        // The held-out rows scored with their own histories (the per-user ranking reads the kept ones instead).
        double top10 = lastTop10(model);
        assertTrue(top10 < 3 * CHANCE_TOP10, "top-10 " + top10 + " on structureless items: a history leaks its target");
    }

    /**
     * historyMode profile on a random split: a training row reads the user's 3 latest other training rows, a
     * held-out row the user's 3 latest training rows (what the kept history gives), never a held-out item; both
     * against an oracle that sorts the training rows here.
     */
    @Test
    void profileModeReadsTheUsersOtherTrainingItemsAndHeldOutRowsTheLatestOnes() {
        TwoTowerRetrieval estimator = estimator("recent=item:history:3:shareWith=item").setHistoryMode("profile")
                .setValidationSplit("random").setValidationFraction(0.3);
        try (PreparedInteractions prepared = estimator.prepare(sequences)) {
            Map<String, List<Row>> trainByUser = new HashMap<>();
            List<Row> train = prepared.trainRows().select("user_id", "item_id", "timestamp", "recent").collectAsList();
            for (Row r : train) {
                trainByUser.computeIfAbsent(r.getString(0), u -> new ArrayList<>()).add(r);
            }
            Comparator<Row> oldestFirst = Comparator.<Row>comparingLong(r -> r.getLong(2)).thenComparing(r -> r.getString(1));
            trainByUser.values().forEach(rows -> rows.sort(oldestFirst));
            for (Row r : train) {
                List<Row> others = new ArrayList<>(trainByUser.get(r.getString(0)));
                others.remove(r);
                List<String> items = others.stream().map(o -> o.getString(1)).toList();
                assertEquals(items.subList(Math.max(0, items.size() - 3), items.size()), r.getList(3), r.toString());
            }
            List<Row> held = prepared.heldOutRows().select("user_id", "item_id", "timestamp", "recent").collectAsList();
            assertTrue(held.size() > 1000, held.size() + " held-out rows");
            for (Row r : held) {
                List<String> items = trainByUser.getOrDefault(r.getString(0), List.of()).stream()
                        .map(o -> o.getString(1)).toList();
                assertEquals(items.subList(Math.max(0, items.size() - 3), items.size()), r.getList(3), r.toString());
            }
        }
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> estimator.copy(new ParamMap()).setHistoryMode("session"));
        assertTrue(bad.getMessage().contains("historyMode"), bad.getMessage());
    }

    private static Map<String, List<String>> top(Dataset<Row> recommendations) {
        Map<String, List<String>> out = new HashMap<>();
        for (Row r : recommendations.collectAsList()) {
            out.put(r.getString(0), r.<Row>getList(1).stream().map(x -> x.getString(0)).toList());
        }
        return out;
    }

}
