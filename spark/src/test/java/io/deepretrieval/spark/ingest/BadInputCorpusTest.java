package io.deepretrieval.spark.ingest;

import io.deepretrieval.spark.SyntheticMovieLens;
import io.deepretrieval.spark.TestSpark;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A corpus of bad inputs: under failFast each stops with its clear message; under dropMalformed the lines that can
 * be skipped are, and counted. Then the quirks that are accepted (byte-order marks, UTF-8 lines in a Latin-1 file,
 * repeated lines), under both policies.
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
                kind("movie line without title", d -> appendLine(d, "u.item", "31"), "u.item:31: " + ITEM_FIELDS + ", found 1", "u.item", 1),
                kind("u.item line with too few fields", d -> appendLine(d, "u.item", "31|Title (1990)|x"), "u.item:31: " + ITEM_FIELDS + ", found 3", "u.item", 1),
                kind("u.item line with too many fields", d -> appendLine(d, "u.item", item("31", "Title (1990)") + "|0"), "u.item:31: " + ITEM_FIELDS + ", found 25", "u.item", 1),
                kind("movies.dat line with too few fields", d -> { dat(d); appendLine(d, "movies.dat", "31::Title (1990)"); }, "movies.dat:31: expected 3 fields (movie id, title, genres) separated by '::', found 2", "movies.dat", 1),
                kind("movies.csv line with too many fields", d -> { csv(d); appendLine(d, "movies.csv", "31,\"Title, The (1990)\",Drama,x"); }, "movies.csv:32: expected 3 fields (movie id, title, genres) separated by ',', found 4", "movies.csv", 1),
                kind("empty u.item", d -> Files.writeString(d.resolve("u.item"), ""), "u.item: the file holds no records", null, -1),
                kind("header line in u.item", d -> insertLine(d, "u.item", 0, "movie id|movie title|release date|video release date|IMDb URL|" + String.join("|", MovieLensReader.GENRES_100K)), "u.item:1: movie id 'movie id' is not an integer", "u.item", 1),
                kind("non-numeric movie id in u.item", d -> appendLine(d, "u.item", item("m31", "Title (1990)")), "u.item:31: movie id 'm31' is not an integer", "u.item", 1),
                kind("empty title", d -> appendLine(d, "u.item", item("31", " ")), "u.item:31: empty title", "u.item", 1),
                kind("NUL in a title", d -> appendLine(d, "u.item", item("31", "Tit\0le (1990)")), "u.item:31: title contains control character U+0000 (line text: \"31|Tit\\u0000le", "u.item", 1),
                kind("movie id repeated with another title", d -> appendLine(d, "u.item", item("3", "Another (1990)")), "u.item:31: movie_id 3 repeats line 3 with a different title", "u.item", 1),
                kind("NUL in a user id", d -> replaceLine(d, "u.data", 6, "1\0\t2\t3\t881250949"), "u.data:7: user id '1\\u0000' is not an integer", "u.data", 1),
                kind("user id beyond long", d -> replaceLine(d, "u.data", 6, "99999999999999999999\t2\t3\t881250949"), "u.data:7: user id '99999999999999999999' is not an integer in the long range", "u.data", 1),
                kind("NaN rating", d -> replaceLine(d, "u.data", 6, "1\t2\tNaN\t881250949"), "u.data:7: rating 'NaN' is not a number", "u.data", 1),
                kind("negative timestamp", d -> replaceLine(d, "u.data", 8, "1\t2\t3\t-5"), "u.data:9: timestamp -5 is before 1970-01-01", "u.data", 1),
                kind("far-future timestamp", d -> replaceLine(d, "u.data", 8, "1\t2\t3\t4102444801"), "u.data:9: timestamp 4102444801 is after 2100-01-01", "u.data", 1),
                kind("timestamp in milliseconds", d -> replaceLine(d, "u.data", 8, "1\t2\t3\t881250949000"), "u.data:9: timestamp 881250949000 is after 2100-01-01", "u.data", 1),
                kind("1,000,000-character line", d -> replaceLine(d, "u.data", 8, "1\t2\t3\t" + "7".repeat(999_994)), "u.data:9: timestamp '" + "7".repeat(60) + "… (999994 characters)' is not an integer in the long range (line text: \"1\t2\t3\t" + "7".repeat(194) + "… (1000000 characters)\")", "u.data", 1),
                kind("duplicate header in ratings.csv", d -> { csv(d); insertLine(d, "ratings.csv", 50, "userId,movieId,rating,timestamp"); }, "ratings.csv:51: user id 'userId' is not an integer", "ratings.csv", 1),
                kind("movies.csv not in UTF-8", d -> { csv(d); latin1(d.resolve("movies.csv")); }, "movies.csv:8: title is not valid text in the expected encoding", "movies.csv", 4),
                kind("ratings.csv with tabs", d -> { csv(d); Files.writeString(d.resolve("ratings.csv"), "userId,movieId,rating,timestamp\n1\t2\t3\t4\n"); }, "ratings.csv:2: expected 4 fields (user, movie, rating, timestamp) separated by commas, found 1", null, -1));
    }

    @TempDir
    Path tmp;

    /** u.item's field-count problem, without the count found. */
    private static final String ITEM_FIELDS = "expected 24 fields (movie id, title, release date, video release date,"
            + " IMDb URL, 19 genre flags) separated by '|'";
    /** However long the line, a message stays short enough to read. */
    private static final int LONGEST_MESSAGE = 600;

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void failFastNamesTheProblem(String kind, Damage damage, String message, String droppedFile, long droppedCount) throws IOException {
        Path dir = fresh(damage);
        MalformedInputException e = assertThrows(MalformedInputException.class, () -> read(dir, InputPolicy.FAIL_FAST));
        assertTrue(e.getMessage().contains(message), kind + ": " + e.getMessage());
        assertTrue(e.getMessage().length() < LONGEST_MESSAGE, kind + ": " + e.getMessage().length() + " characters");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void dropMalformedSkipsAndCounts(String kind, Damage damage, String message, String droppedFile, long droppedCount) throws IOException {
        Path dir = fresh(damage);
        if (droppedFile == null) {
            // Nothing to skip to: the folder or a whole file is unusable, under either policy.
            assertThrows(MalformedInputException.class, () -> read(dir, InputPolicy.DROP_MALFORMED), kind);
            return;
        }
        MovieLensReader.TitledRatings data = read(dir, InputPolicy.DROP_MALFORMED);
        DroppedLines d = data.dropped().stream().filter(x -> x.file().endsWith(droppedFile)).findFirst()
                .orElseThrow(() -> new AssertionError(kind + ": nothing reported dropped from " + droppedFile + ": " + data.dropped()));
        assertEquals(droppedCount, d.count(), kind);
        assertTrue(d.examples().get(0).contains(message), kind + ": " + d.examples());
        assertTrue(d.examples().get(0).length() < LONGEST_MESSAGE, kind + ": " + d.examples().get(0).length() + " characters");
        assertTrue(data.table().count() > 100, kind + ": the good lines must still be read");
    }

    /** Inputs that are accepted: read as without the quirk under either policy, with a note where one is due. */
    @Test
    void byteOrderMarksAtTheStartOfAFileAreDropped() throws IOException {
        Path csv = fresh(BadInputCorpusTest::csv);
        Path ml100k = fresh(d -> { });
        for (Path file : List.of(csv.resolve("ratings.csv"), csv.resolve("movies.csv"), ml100k.resolve("u.data"),
                ml100k.resolve("u.item"))) {
            byte[] bytes = Files.readAllBytes(file);
            byte[] marked = new byte[bytes.length + 3];
            marked[0] = (byte) 0xEF;
            marked[1] = (byte) 0xBB;
            marked[2] = (byte) 0xBF;
            System.arraycopy(bytes, 0, marked, 3, bytes.length);
            Files.write(file, marked);
        }
        for (InputPolicy policy : InputPolicy.values()) {
            for (Path dir : List.of(csv, ml100k)) {
                MovieLensData data = new MovieLensReader(TestSpark.session(), policy).read(dir.toString());
                assertEquals(List.of(), data.dropped(), policy + " " + dir);
                // Accepted, and said so in the input report.
                List<String> marked = data.notes().stream().filter(n -> n.note().contains("byte-order mark"))
                        .map(n -> n.file().substring(n.file().lastIndexOf('/') + 1) + " " + n.count()).sorted().toList();
                assertEquals(dir == csv ? List.of("movies.csv 1", "ratings.csv 1") : List.of("u.data 1", "u.item 1"),
                        marked, policy + " " + dir + ": " + data.notes());
                assertEquals(300, data.ratings().count(), policy + " " + dir);
                assertEquals(30, data.movies().count(), policy + " " + dir + ": the CSV header is still a header");
                assertEquals(SyntheticMovieLens.title(1), data.movies().filter(col("movie_id").equalTo("1")).first().getString(1));
            }
        }
    }

    @Test
    void utf8LinesInsideTheLatin1ItemsFileAreReadAsUtf8() throws IOException {
        Path dir = fresh(d -> { });
        List<String> lines = Files.readAllLines(dir.resolve("u.item"), StandardCharsets.ISO_8859_1);
        ByteArrayOutputStream mixed = new ByteArrayOutputStream();
        for (int i = 0; i < lines.size(); i++) {
            // Movie 7's line ("Café, ...") in UTF-8, movie 14's and the others' in ISO-8859-1.
            mixed.write((lines.get(i) + "\n").getBytes(i == 6 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1));
        }
        Files.write(dir.resolve("u.item"), mixed.toByteArray());
        for (InputPolicy policy : InputPolicy.values()) {
            MovieLensData data = new MovieLensReader(TestSpark.session(), policy).read(dir.toString());
            assertEquals(List.of(), data.dropped(), policy.toString());
            assertTrue(data.notes().stream().anyMatch(n -> n.toString().endsWith("u.item: 1 line in UTF-8 among"
                    + " ISO-8859-1 lines, read as UTF-8")), policy + ": " + data.notes());
            for (int m : new int[]{7, 14}) {
                assertEquals(SyntheticMovieLens.title(m), data.movies().filter(col("movie_id").equalTo(String.valueOf(m)))
                        .first().getString(1), policy + ": movie " + m);
            }
        }
    }

    @Test
    void exactDuplicateLinesAreKeptAsRatingsReadOnceAsMoviesAndCounted() throws IOException {
        Path dir = fresh(d -> {
            List<String> ratings = Files.readAllLines(d.resolve("u.data"));
            for (int i = 0; i < 3; i++) {
                appendLine(d, "u.data", ratings.get(i));
            }
            appendLine(d, "u.item", Files.readAllLines(d.resolve("u.item"), StandardCharsets.ISO_8859_1).get(6));
        });
        for (InputPolicy policy : InputPolicy.values()) {
            MovieLensReader.TitledRatings data = new MovieLensReader(TestSpark.session(), policy)
                    .readTitledRatings(dir.toString());
            assertEquals(List.of(), data.dropped(), policy.toString());
            assertEquals(303, data.table().count(), policy + ": every rating kept, each once with its title");
            assertEquals(List.of("u.data: 3 lines repeating an earlier line's user_id, movie_id and timestamp, kept as"
                            + " separate rows", "u.item: 1 line repeating an earlier line's movie_id and title, read once"),
                    data.notes().stream().map(n -> n.toString().substring(n.file().lastIndexOf('/') + 1)).toList(),
                    policy.toString());
        }
    }

    private Path fresh(Damage damage) throws IOException {
        Path dir = SyntheticMovieLens.write100k(Files.createTempDirectory(tmp, "ml"), 20, 30, 300, 5);
        damage.apply(dir);
        return dir;
    }

    /** The folder read as the sweep and {@code train --movielens} read it (ratings with their titles). */
    private static MovieLensReader.TitledRatings read(Path dir, InputPolicy policy) {
        return new MovieLensReader(TestSpark.session(), policy).readTitledRatings(dir.toString());
    }

    private static Arguments kind(String name, Damage damage, String message, String droppedFile, long count) {
        return Arguments.of(name, damage, message, droppedFile, count);
    }

    /** A 24-field u.item line of {@code id} and {@code title}. */
    private static String item(String id, String title) {
        return id + "|" + title + "|01-Jan-1995||http://example.invalid|" + SyntheticMovieLens.GENRE_FLAGS;
    }

    private static void dat(Path dir) throws IOException {
        Files.delete(dir.resolve("u.data"));
        Files.delete(dir.resolve("u.item"));
        SyntheticMovieLens.writeDat(dir, 20, 30, 300, 5, true);
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
