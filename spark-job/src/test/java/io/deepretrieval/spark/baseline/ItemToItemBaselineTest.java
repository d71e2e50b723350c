package io.deepretrieval.spark.baseline;

import io.deepretrieval.model.metrics.FactorizedTopK;
import io.deepretrieval.spark.TestSpark;
import io.deepretrieval.spark.eval.NextItemQueries;
import io.deepretrieval.spark.eval.RankingMetrics;
import io.deepretrieval.spark.preprocess.InteractionSplits;
import io.deepretrieval.spark.preprocess.KeyColumns;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Item-to-item against a brute-force oracle (cosines of user sets, neighbour caps and sums over histories computed
 * in plain Java), and on planted sequences (item i always followed by item i + 1) where it must beat the most-popular
 * ranking and chance by far.
 */
class ItemToItemBaselineTest {
    private static final StructType ROWS = new StructType().add(KeyColumns.USER, DataTypes.StringType)
            .add(KeyColumns.ITEM, DataTypes.StringType).add(KeyColumns.TIME, DataTypes.LongType);

    private record Event(String user, String item, long time) {
    }

    private static Dataset<Row> frame(SparkSession spark, List<Event> events) {
        return spark.createDataFrame(events.stream().map(e -> RowFactory.create(e.user, e.item, e.time)).toList(), ROWS);
    }

    /** The oracle's cosines: item -> neighbour -> |U(i) ∩ U(j)| / sqrt(|U(i)| |U(j)|), for pairs with a common user. */
    private static Map<String, Map<String, Double>> cosines(List<Event> events) {
        Map<String, Set<String>> users = new TreeMap<>();
        events.forEach(e -> users.computeIfAbsent(e.item, k -> new TreeSet<>()).add(e.user));
        Map<String, Map<String, Double>> out = new TreeMap<>();
        for (String i : users.keySet()) {
            for (String j : users.keySet()) {
                Set<String> common = new TreeSet<>(users.get(i));
                common.retainAll(users.get(j));
                if (!i.equals(j) && !common.isEmpty()) {
                    out.computeIfAbsent(i, k -> new TreeMap<>()).put(j,
                            common.size() / Math.sqrt((double) users.get(i).size() * users.get(j).size()));
                }
            }
        }
        return out;
    }

    /** The oracle's scores of one user: sums over the last n distinct-by-row items of their capped neighbours. */
    private static Map<String, Double> oracleScores(List<Event> events, Map<String, Map<String, Double>> cos, String user,
                                                    int historyLength, int neighbours) {
        List<String> ordered = events.stream().filter(e -> e.user.equals(user))
                .sorted(Comparator.comparingLong(Event::time).thenComparing(Event::item)).map(Event::item).toList();
        Set<String> recent = new LinkedHashSet<>(ordered.subList(Math.max(0, ordered.size() - historyLength), ordered.size()));
        Map<String, Double> scores = new HashMap<>();
        for (String h : recent) {
            List<Map.Entry<String, Double>> near = cos.getOrDefault(h, Map.of()).entrySet().stream()
                    .sorted(Map.Entry.<String, Double>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                    .limit(neighbours).toList();
            near.forEach(e -> scores.merge(e.getKey(), e.getValue(), Double::sum));
        }
        scores.keySet().removeAll(ordered);
        return scores;
    }

    @Test
    void similaritiesAndScoresEqualABruteForceOracle() {
        SparkSession spark = TestSpark.session();
        Random random = new Random(5);
        List<Event> events = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            // Few items, a repeated interaction now and then, ties in time.
            events.add(new Event("u" + random.nextInt(25), "i" + random.nextInt(30), random.nextInt(40)));
        }
        Map<String, Map<String, Double>> cos = cosines(events);
        try (ItemToItemBaseline model = ItemToItemBaseline.fit(frame(spark, events))) {
            int pairs = 0;
            for (Row r : model.similarities().collectAsList()) {
                double expected = cos.get(r.getString(0)).get(r.getString(1));
                assertEquals(expected, r.getDouble(2), 1e-12, r.toString());
                pairs++;
            }
            assertEquals(cos.values().stream().mapToInt(Map::size).sum(), pairs, "every pair with a common user, once");
            for (int historyLength : new int[]{1, 3, ItemToItemBaseline.ALL}) {
                for (int neighbours : new int[]{2, ItemToItemBaseline.ALL}) {
                    ItemToItemBaseline.Setting s = new ItemToItemBaseline.Setting(historyLength, neighbours);
                    // Ask for every item: the whole score list is compared.
                    List<Row> recs = model.recommend(s, 1000).collectAsList();
                    long scored = events.stream().map(Event::user).distinct()
                            .filter(u -> !oracleScores(events, cos, u, historyLength, neighbours).isEmpty()).count();
                    assertEquals(scored, recs.size(), s + ": a row for every user with a score");
                    for (Row r : recs) {
                        Map<String, Double> expected = oracleScores(events, cos, r.getString(0), historyLength, neighbours);
                        List<Row> list = r.getList(1);
                        assertEquals(expected.size(), list.size(), s + " " + r.getString(0));
                        double previous = Double.POSITIVE_INFINITY;
                        for (Row rec : list) {
                            assertEquals(expected.get(rec.getString(0)), rec.getDouble(1), 1e-9, s + " " + rec);
                            assertTrue(rec.getDouble(1) <= previous, "best first");
                            previous = rec.getDouble(1);
                        }
                    }
                    assertFalse(recs.isEmpty());
                }
            }
        }
    }

    /**
     * Planted sequences: each user walks {@code length} consecutive items from a random start (item i is always
     * followed by i + 1) on a ring of {@code items} items, one step per time unit.
     */
    private static List<Event> walks(int users, int items, long seed) {
        Random random = new Random(seed);
        List<Event> out = new ArrayList<>();
        for (int u = 0; u < users; u++) {
            int start = random.nextInt(items);
            int length = 5 + random.nextInt(11);
            for (int step = 0; step < length; step++) {
                out.add(new Event("u" + u, "i" + (start + step) % items, 1000L * u + step));
            }
        }
        return out;
    }

    @Test
    void onPlantedSequencesItBeatsPopularityAndChanceByFar() {
        SparkSession spark = TestSpark.session();
        int items = 200;
        Dataset<Row> rows = frame(spark, walks(300, items, 9));
        // Each user's last step is held out: the item after the last training item, by construction.
        InteractionSplits.Split split = InteractionSplits.KEYS.leaveLastN(rows, 1);
        RankingMetrics metrics = new RankingMetrics(KeyColumns.USER, KeyColumns.ITEM);
        ItemToItemBaseline.Tuned tuned = ItemToItemBaseline.tune(split.train(), split.test(),
                new ItemToItemBaseline.Grid(List.of(1, ItemToItemBaseline.DEFAULT_HISTORY), List.of(5, ItemToItemBaseline.ALL)), 10);
        double itemToItem;
        double next;
        try (ItemToItemBaseline model = ItemToItemBaseline.fit(split.train())) {
            itemToItem = metrics.evaluate(model.recommend(tuned.setting(), 10), split.test(), 10).recallAtK();
            // The same rows through the next-item protocol: each test row's history is the user's training walk.
            NextItemQueries queries = NextItemQueries.of(split.train(), split.test());
            next = queries.evaluate((q, n) -> model.recommendForQueries(q, tuned.setting(), n), 10).recallAtK();
            queries.release();
        }
        IndexedPairs pairs = IndexedPairs.fit(rows, KeyColumns.USER, KeyColumns.ITEM);
        double popular = PopularityBaseline.score(pairs.encode(split.train()), pairs.encode(split.test()), pairs.items(),
                new FactorizedTopK(10), 10).ranking().recallAtK();
        // Chance: 10 of the items a user has not had (at least 200 - 14).
        double chance = 10.0 / (items - 14);
        assertTrue(itemToItem > 0.9, "item-to-item recall@10 " + itemToItem);
        assertTrue(itemToItem > popular + 0.5 && itemToItem > 5 * chance,
                "item-to-item " + itemToItem + ", popularity " + popular + ", chance " + chance);
        assertTrue(next > 0.9, "next-item recall@10 " + next);
    }

    @Test
    void settingsAreCheckedAndLabelled() {
        assertThrows(IllegalArgumentException.class, () -> new ItemToItemBaseline.Setting(0, 5));
        assertThrows(IllegalArgumentException.class, () -> new ItemToItemBaseline.Grid(List.of(), List.of(5)));
        assertEquals("item-to-item (history all, neighbours 20)",
                new ItemToItemBaseline.Setting(ItemToItemBaseline.ALL, 20).label());
        assertEquals(6, ItemToItemBaseline.Grid.DEFAULT.settings().size());
    }
}
