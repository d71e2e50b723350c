package io.deepretrieval.spark.ingest;

import io.deepretrieval.spark.SyntheticMovieLens;
import io.deepretrieval.spark.TestSpark;
import io.deepretrieval.spark.TutorialData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A corpus of bad inputs: under failFast each stops with its clear message; under dropMalformed the lines that can
 * be skipped are, and counted.
 */
class BadInputCorpusTest {
    /** Edits a freshly written synthetic folder. */
    interface Damage {
        void apply(Path dir) throws IOException;
    }

    static Stream<Arguments> corpus() {
        return Stream.of(
                kind("missing data folder", d -> deleteTree(d), "does not exist", null, -1),
                kind("no movies file", d -> Files.delete(d.resolve("u.item")), "holds neither u.data + u.item", null, -1),
                kind("empty ratings file", d -> Files.writeString(d.resolve("u.data"), ""), "the file holds no records", null, -1),
                kind("too few fields", d -> replaceLine(d, "u.data", 5, "1\t2\t3"), "u.data:6: expected 4 fields", "u.data", 1),
                kind("too many fields", d -> replaceLine(d, "u.data", 9, "1\t2\t3\t881250949\t7"), "u.data:10: expected 4 fields (user, movie, rating, timestamp) separated by tabs, found 5", "u.data", 1),
                kind("non-numeric user id", d -> replaceLine(d, "u.data", 0, "abc\t2\t3\t881250949"), "u.data:1: user id 'abc' is not an integer", "u.data", 1),
                kind("non-numeric movie id", d -> replaceLine(d, "u.data", 1, "1\tx1\t3\t881250949"), "u.data:2: movie id 'x1' is not an integer", "u.data", 1),
                kind("non-numeric rating", d -> replaceLine(d, "u.data", 2, "1\t2\tfive\t881250949"), "u.data:3: rating 'five' is not a number", "u.data", 1),
                kind("date instead of timestamp", d -> replaceLine(d, "u.data", 3, "1\t2\t3\t2020-01-01"), "u.data:4: timestamp '2020-01-01' is not an integer", "u.data", 1),
                kind("blank timestamp", d -> replaceLine(d, "u.data", 4, "1\t2\t3\t"), "u.data:5: timestamp '' is not an integer", "u.data", 1),
                kind("header line in u.data", d -> insertLine(d, "u.data", 0, "user_id\titem_id\trating\ttimestamp"), "u.data:1: user id 'user_id' is not an integer", "u.data", 1),
                kind("rating of an unknown movie", d -> replaceLine(d, "u.data", 7, "1\t9999\t3\t881250949"), "1 ratings reference movies missing from the movies file, e.g. movie ids [9999]", "ratings referencing unknown movies", 1),
                kind("movie line without title", d -> appendLine(d, "u.item", "31"), "u.item:31: expected a movie id and a title separated by '|'", "u.item", 1),
                kind("non-numeric movie id in u.item", d -> appendLine(d, "u.item", "m31|Title (1990)|x"), "u.item:31: movie id 'm31' is not an integer", "u.item", 1),
                kind("empty title", d -> appendLine(d, "u.item", "31| |x"), "u.item:31: empty title", "u.item", 1),
                kind("duplicate header in ratings.csv", d -> { csv(d); insertLine(d, "ratings.csv", 50, "userId,movieId,rating,timestamp"); }, "ratings.csv:51: user id 'userId' is not an integer", "ratings.csv", 1),
                kind("movies.csv not in UTF-8", d -> { csv(d); latin1(d.resolve("movies.csv")); }, "movies.csv:8: title is not valid text in the expected encoding", "movies.csv", 4),
                kind("ratings.csv with tabs", d -> { csv(d); Files.writeString(d.resolve("ratings.csv"), "userId,movieId,rating,timestamp\n1\t2\t3\t4\n"); }, "ratings.csv:2: expected 4 fields (user, movie, rating, timestamp) separated by commas, found 1", null, -1));
    }

    @TempDir
    Path tmp;

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void failFastNamesTheProblem(String kind, Damage damage, String message, String droppedFile, long droppedCount) throws IOException {
        Path dir = fresh(damage);
        MalformedInputException e = assertThrows(MalformedInputException.class, () -> prepare(dir, InputPolicy.FAIL_FAST));
        assertTrue(e.getMessage().contains(message), kind + ": " + e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void dropMalformedSkipsAndCounts(String kind, Damage damage, String message, String droppedFile, long droppedCount) throws IOException {
        Path dir = fresh(damage);
        if (droppedFile == null) {
            // Nothing to skip to: the folder or a whole file is unusable, under either policy.
            assertThrows(MalformedInputException.class, () -> prepare(dir, InputPolicy.DROP_MALFORMED), kind);
            return;
        }
        TutorialData data = prepare(dir, InputPolicy.DROP_MALFORMED);
        DroppedLines d = data.dropped().stream().filter(x -> x.file().endsWith(droppedFile)).findFirst()
                .orElseThrow(() -> new AssertionError(kind + ": nothing reported dropped from " + droppedFile + ": " + data.dropped()));
        assertEquals(droppedCount, d.count(), kind);
        assertTrue(d.examples().get(0).contains(message), kind + ": " + d.examples());
        assertTrue(data.prepared().train().size() > 100, kind + ": the good lines must still train");
    }

    private Path fresh(Damage damage) throws IOException {
        Path dir = SyntheticMovieLens.write100k(Files.createTempDirectory(tmp, "ml"), 20, 30, 300, 5);
        damage.apply(dir);
        return dir;
    }

    private static TutorialData prepare(Path dir, InputPolicy policy) {
        return TutorialData.read(TestSpark.session(), dir.toString(), 1, 0.2, 10, 1000, policy);
    }

    private static Arguments kind(String name, Damage damage, String message, String droppedFile, long count) {
        return Arguments.of(name, damage, message, droppedFile, count);
    }

    private static void csv(Path dir) throws IOException {
        Files.delete(dir.resolve("u.data"));
        Files.delete(dir.resolve("u.item"));
        SyntheticMovieLens.writeCsv(dir, 20, 30, 300, 5);
    }

    private static void latin1(Path file) throws IOException {
        Files.write(file, Files.readString(file, StandardCharsets.UTF_8).getBytes(StandardCharsets.ISO_8859_1));
    }

    private static void replaceLine(Path dir, String file, int index, String line) throws IOException {
        List<String> lines = new ArrayList<>(Files.readAllLines(dir.resolve(file), StandardCharsets.ISO_8859_1));
        lines.set(index, line);
        Files.write(dir.resolve(file), lines, StandardCharsets.ISO_8859_1);
    }

    private static void insertLine(Path dir, String file, int index, String line) throws IOException {
        List<String> lines = new ArrayList<>(Files.readAllLines(dir.resolve(file), StandardCharsets.ISO_8859_1));
        lines.add(index, line);
        Files.write(dir.resolve(file), lines, StandardCharsets.ISO_8859_1);
    }

    private static void appendLine(Path dir, String file, String line) throws IOException {
        Files.writeString(dir.resolve(file), line + "\n", StandardCharsets.ISO_8859_1, java.nio.file.StandardOpenOption.APPEND);
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
