package io.deepretrieval.spark.preprocess;

import io.deepretrieval.spark.TestSpark;
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
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Histories equal a brute-force oracle (sort each user's earlier rows, keep the last n) on random data full of ties,
 * under any partitioning, and never contain the row itself or anything at its instant.
 */
class InteractionHistoriesTest {
    private static final StructType ROWS = new StructType().add(KeyColumns.USER, DataTypes.StringType)
            .add(KeyColumns.ITEM, DataTypes.StringType).add(KeyColumns.TIME, DataTypes.LongType);

    private record Event(String user, String item, long time) {
    }

    private static List<Event> randomEvents(long seed, int count) {
        Random random = new Random(seed);
        List<Event> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            // Few users, few instants: many ties on time, and repeated items.
            out.add(new Event("u" + random.nextInt(6), "i" + random.nextInt(40), random.nextInt(25)));
        }
        return out;
    }

    private static Dataset<Row> frame(SparkSession spark, List<Event> events, int partitions) {
        List<Row> rows = events.stream().map(e -> RowFactory.create(e.user, e.item, e.time)).toList();
        return spark.createDataFrame(rows, ROWS).repartition(partitions);
    }

    /** The oracle: the user's source items strictly before t, ordered by (time, item id), the last n. */
    private static List<String> oracle(List<Event> source, String user, long time, int n) {
        List<String> earlier = source.stream().filter(e -> e.user.equals(user) && e.time < time)
                .sorted(Comparator.comparingLong(Event::time).thenComparing(Event::item))
                .map(Event::item).toList();
        return earlier.subList(Math.max(0, earlier.size() - n), earlier.size());
    }

    @Test
    void everyRowsHistoryIsTheUsersLastNItemsStrictlyBeforeIt() {
        SparkSession spark = TestSpark.session();
        List<Event> events = randomEvents(7, 400);
        for (int n : new int[]{1, 3, 10}) {
            for (int partitions : new int[]{1, 5}) {
                List<Row> out = InteractionHistories.before(frame(spark, events, partitions),
                        frame(spark, events, 3), n, "history").collectAsList();
                assertEquals(events.size(), out.size(), "one output row per query row");
                Map<String, Integer> checked = new HashMap<>();
                for (Row r : out) {
                    String user = r.getString(0);
                    long time = r.getLong(2);
                    List<String> history = r.getList(3);
                    assertEquals(oracle(events, user, time, n), history, "n=" + n + " user " + user + " t=" + time);
                    checked.merge(user, history.size(), Integer::sum);
                }
                assertTrue(checked.values().stream().mapToInt(Integer::intValue).sum() > 0, "some histories are non-empty");
            }
        }
    }

    @Test
    void aQueryAfterTheSourceReadsOnlySourceRowsAndAnUnknownUserGetsAnEmptyHistory() {
        SparkSession spark = TestSpark.session();
        List<Event> source = randomEvents(11, 200);
        List<Event> queries = List.of(new Event("u1", "x", 12), new Event("u2", "y", 100), new Event("nobody", "z", 50));
        List<Row> out = InteractionHistories.before(frame(spark, queries, 2), frame(spark, source, 2), 5, "h")
                .collectAsList();
        assertEquals(3, out.size());
        for (Row r : out) {
            assertEquals(oracle(source, r.getString(0), r.getLong(2), 5), r.getList(3));
        }
        assertTrue(out.stream().anyMatch(r -> r.getString(0).equals("nobody") && r.getList(3).isEmpty()));
    }

    @Test
    void latestIsTheHistoryOfAQueryAfterEveryRow() {
        SparkSession spark = TestSpark.session();
        List<Event> events = randomEvents(3, 300);
        List<Row> latest = InteractionHistories.latest(frame(spark, events, 4), 4, "h").collectAsList();
        assertEquals(events.stream().map(Event::user).distinct().count(), latest.size(), "one row per user");
        for (Row r : latest) {
            assertEquals(oracle(events, r.getString(0), Long.MAX_VALUE, 4), r.getList(1));
        }
    }

    @Test
    void aPlantedTargetNeverEntersItsOwnHistory() {
        // Each user's item at time t is unique to that row: if a row saw itself, its history would hold its item.
        SparkSession spark = TestSpark.session();
        List<Event> events = new ArrayList<>();
        for (int u = 0; u < 5; u++) {
            for (int t = 0; t < 20; t++) {
                events.add(new Event("u" + u, "u" + u + "-t" + t, t / 2)); // pairs of rows share an instant
            }
        }
        for (Row r : InteractionHistories.before(frame(spark, events, 3), frame(spark, events, 2), 50, "h").collectAsList()) {
            List<String> history = r.getList(3);
            assertFalse(history.contains(r.getString(1)), "row " + r + " sees itself");
            long t = r.getLong(2);
            assertEquals(2 * t, history.size(), "exactly the rows of earlier instants: " + r);
        }
    }

    /** The oracle of a profile: the user's rows but one copy of this row, ordered by (time, item id), the last n. */
    private static List<String> profileOracle(List<Event> rows, Event row, int n) {
        List<Event> others = new ArrayList<>(rows.stream().filter(e -> e.user.equals(row.user))
                .sorted(Comparator.comparingLong(Event::time).thenComparing(Event::item)).toList());
        assertTrue(others.remove(row), "the row is one of the user's");
        List<String> items = others.stream().map(Event::item).toList();
        return items.subList(Math.max(0, items.size() - n), items.size());
    }

    @Test
    void aProfileIsTheUsersLatestOtherRowsUnderAnyPartitioning() {
        SparkSession spark = TestSpark.session();
        List<Event> events = randomEvents(5, 300); // ties, repeated items and exact duplicate rows
        assertTrue(events.size() > events.stream().distinct().count(), "the data holds duplicate rows");
        for (int n : new int[]{1, 4, 60}) {
            for (int partitions : new int[]{1, 5}) {
                List<Row> out = InteractionHistories.profile(frame(spark, events, partitions), n, List.of("a", "b"))
                        .collectAsList();
                assertEquals(events.size(), out.size(), "one output row per row");
                for (Row r : out) {
                    Event row = new Event(r.getString(0), r.getString(1), r.getLong(2));
                    assertEquals(profileOracle(events, row, n), r.getList(3), "n=" + n + " " + row);
                    assertEquals(r.getList(3), r.getList(4), "every named column holds the same profile");
                }
            }
        }
        // Unique items per row: a row that saw itself would hold its own item.
        List<Event> unique = new ArrayList<>();
        for (int t = 0; t < 30; t++) {
            unique.add(new Event("u" + t % 3, "item" + t, t / 4));
        }
        for (Row r : InteractionHistories.profile(frame(spark, unique, 2), 50, List.of("h")).collectAsList()) {
            assertFalse(r.getList(3).contains(r.getString(1)), "row " + r + " sees itself");
            assertEquals(9, r.getList(3).size(), "all 9 other rows of the user: " + r);
        }
    }

    @Test
    void latestForGivesEveryQueryItsUsersLatestItemsWhateverItsTime() {
        SparkSession spark = TestSpark.session();
        List<Event> source = randomEvents(13, 200);
        List<Event> queries = List.of(new Event("u1", "x", 0), new Event("u2", "y", 100), new Event("nobody", "z", 5));
        InteractionHistories histories = InteractionHistories.of(frame(spark, source, 3), 6);
        List<Row> out = histories.latestFor(frame(spark, queries, 2), List.of("h")).collectAsList();
        assertEquals(3, out.size());
        for (Row r : out) {
            assertEquals(oracle(source, r.getString(0), Long.MAX_VALUE, 6), r.getList(3), r.toString());
        }
        assertTrue(out.stream().anyMatch(r -> r.getString(0).equals("nobody") && r.getList(3).isEmpty()));
    }

    @Test
    void aHistoryColumnThatIsAlreadyThereAndALengthBelowOneAreErrors() {
        SparkSession spark = TestSpark.session();
        Dataset<Row> rows = frame(spark, randomEvents(1, 10), 1);
        IllegalArgumentException clash = assertThrows(IllegalArgumentException.class,
                () -> InteractionHistories.before(rows, rows, 3, KeyColumns.ITEM));
        assertTrue(clash.getMessage().contains("'" + KeyColumns.ITEM + "'"), clash.getMessage());
        IllegalArgumentException length = assertThrows(IllegalArgumentException.class,
                () -> InteractionHistories.before(rows, rows, 0, "h"));
        assertTrue(length.getMessage().contains("got 0"), length.getMessage());
    }
}
