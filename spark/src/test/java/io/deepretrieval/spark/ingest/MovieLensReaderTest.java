package io.deepretrieval.spark.ingest;

import io.deepretrieval.spark.SyntheticMovieLens;
import io.deepretrieval.spark.TestFileSystem;
import io.deepretrieval.spark.TestSpark;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MovieLensReaderTest {
    private final MovieLensReader reader = new MovieLensReader(TestFileSystem.register(TestSpark.session()));

    @Test
    void reads100kLayoutWithIsoLatin1Titles(@TempDir Path dir) throws IOException {
        SyntheticMovieLens.write100k(dir, 30, 42, 500, 1);
        MovieLensData data = reader.read(dir.toString());
        assertEquals(MovieLensLayout.ML_100K, data.layout());
        assertEquals(500, data.ratings().count());
        assertEquals(42, data.movies().count());
        assertEquals(MovieLensReader.RATINGS, data.ratings().schema());
        Row m7 = data.movies().filter(col("movie_id").equalTo("7")).first();
        assertEquals(SyntheticMovieLens.title(7), m7.getString(1)); // "Café, ...", decoded from ISO-8859-1
    }

    @Test
    void readsTheOneAndTenMillionLayoutInEitherEncoding(@TempDir Path dir) throws IOException {
        for (boolean latin1 : new boolean[]{true, false}) {
            Path folder = SyntheticMovieLens.writeDat(dir.resolve(latin1 ? "ml-1m" : "ml-10m"), 30, 42, 500, 1, latin1);
            MovieLensData data = reader.read(folder.toString());
            assertEquals(MovieLensLayout.ML_1M, data.layout());
            assertEquals(500, data.ratings().count());
            assertEquals(42, data.movies().count());
            assertEquals(SyntheticMovieLens.title(7), data.movies().filter(col("movie_id").equalTo("7")).first().getString(1),
                    latin1 ? "1M: ISO-8859-1" : "10M: UTF-8");
        }
        Path bad = dir.resolve("ml-1m");
        List<String> lines = Files.readAllLines(bad.resolve("ratings.dat"));
        lines.set(9, "3::5::4");
        Files.write(bad.resolve("ratings.dat"), lines);
        MalformedInputException e = assertThrows(MalformedInputException.class, () -> failFast(bad));
        assertTrue(e.getMessage().contains("ratings.dat:10: expected 4 fields (user, movie, rating, timestamp) separated"
                + " by '::', found 3"), e.getMessage());
    }

    @Test
    void readsCsvLayoutWithHeadersAndQuotedTitles(@TempDir Path dir) throws IOException {
        SyntheticMovieLens.writeCsv(dir, 30, 42, 500, 1);
        MovieLensData data = reader.read(dir.toString());
        assertEquals(MovieLensLayout.CSV, data.layout());
        assertEquals(500, data.ratings().count());
        List<Row> movies = data.movies().filter(col("movie_id").equalTo("14")).collectAsList();
        assertEquals(SyntheticMovieLens.title(14), movies.get(0).getString(1)); // contains a comma inside quotes
    }

    @Test
    void sideFeaturesGenresAndUsersOfEachLayout(@TempDir Path dir) throws IOException {
        Path ml100k = io.deepretrieval.spark.SyntheticMovieLens.write100k(dir.resolve("100k"), 5, 12, 30, 1);
        // Movie 1: Action and Drama (flags 1 and 8 of 19); the synthetic u.item's flags give the others Adventure.
        String items = java.nio.file.Files.readString(ml100k.resolve("u.item"), java.nio.charset.StandardCharsets.ISO_8859_1)
                .replaceFirst("(?m)^1\\|(.*?)\\|" + java.util.regex.Pattern.quote(SyntheticMovieLens.GENRE_FLAGS) + "$",
                        "1|$1|0|1|0|0|0|0|0|0|1|0|0|0|0|0|0|0|0|0|0");
        java.nio.file.Files.writeString(ml100k.resolve("u.item"), items, java.nio.charset.StandardCharsets.ISO_8859_1);
        java.nio.file.Files.writeString(ml100k.resolve("u.user"), "1|24|M|technician|85711\n2|53|F|other|94043\n");
        MovieLensReader.SideFeatures side = reader.readSideFeatures(ml100k.toString());
        java.util.Map<String, List<Object>> genres = new java.util.HashMap<>();
        side.genres().collectAsList().forEach(r -> genres.put(r.getString(0), r.getList(1)));
        assertEquals(List.of("Action", "Drama"), genres.get("1"));
        assertEquals(List.of("Adventure"), genres.get("2"));
        assertEquals(List.of("[1,24,M,technician,857]", "[2,53,F,other,940]"),
                side.users().orderBy("user_id").collectAsList().stream().map(Object::toString).toList());

        Path ml1m = io.deepretrieval.spark.SyntheticMovieLens.writeDat(dir.resolve("1m"), 5, 12, 30, 1, false);
        java.nio.file.Files.writeString(ml1m.resolve("users.dat"), "1::F::1::10::48067\n2::M::56::16::70072\n");
        MovieLensReader.SideFeatures dat = reader.readSideFeatures(ml1m.toString());
        assertEquals(List.of("Drama", "Comedy"), dat.genres().filter("movie_id = '3'").first().getList(1));
        assertEquals("[2,56,M,16,700]", dat.users().filter("user_id = '2'").first().toString());

        Path csv = io.deepretrieval.spark.SyntheticMovieLens.writeCsv(dir.resolve("csv"), 5, 12, 30, 1);
        MovieLensReader.SideFeatures newer = reader.readSideFeatures(csv.toString());
        assertEquals(null, newer.users(), "the CSV releases have no user table");
        assertEquals(List.of("Drama"), newer.genres().filter("movie_id = '4'").first().getList(1));

        java.nio.file.Files.writeString(ml100k.resolve("u.user"), "1|24|M|technician|85711\n2|old|F|other|94043\n");
        MalformedInputException bad = assertThrows(MalformedInputException.class,
                () -> reader.readSideFeatures(ml100k.toString()));
        assertTrue(bad.getMessage().contains("u.user:2") && bad.getMessage().contains("age 'old'"), bad.getMessage());
    }

    @Test
    void malformedRatingLineNamesFileLineAndText(@TempDir Path dir) throws IOException {
        SyntheticMovieLens.write100k(dir, 30, 42, 50, 1);
        List<String> lines = Files.readAllLines(dir.resolve("u.data"));
        lines.set(16, "12\t7\tfour\t881250949");
        Files.write(dir.resolve("u.data"), lines);
        MalformedInputException e = assertThrows(MalformedInputException.class, () -> failFast(dir));
        assertTrue(e.getMessage().contains("u.data:17: rating 'four' is not a number"), e.getMessage());
        assertTrue(e.getMessage().contains("12\\t7\\tfour") || e.getMessage().contains("12\t7\tfour"), e.getMessage());
    }

    @Test
    void wrongFieldCountAndNonNumericIds(@TempDir Path dir) throws IOException {
        SyntheticMovieLens.write100k(dir, 30, 42, 50, 1);
        Files.writeString(dir.resolve("u.data"), "1\t2\t3\n", StandardCharsets.UTF_8);
        assertTrue(assertThrows(MalformedInputException.class, () -> failFast(dir)).getMessage()
                .contains("u.data:1: expected 4 fields"));
        Files.writeString(dir.resolve("u.data"), "1\t2\t3\t4\nx\t2\t3\t4\n", StandardCharsets.UTF_8);
        assertTrue(assertThrows(MalformedInputException.class, () -> failFast(dir)).getMessage()
                .contains("u.data:2: user id 'x' is not an integer"));
    }

    @Test
    void emptyFileAndMissingFolderSayWhatToDo(@TempDir Path dir) throws IOException {
        SyntheticMovieLens.write100k(dir, 30, 42, 50, 1);
        Files.writeString(dir.resolve("u.data"), "");
        assertTrue(assertThrows(MalformedInputException.class, () -> failFast(dir)).getMessage()
                .contains("u.data: the file holds no records"));
        MalformedInputException missing = assertThrows(MalformedInputException.class,
                () -> reader.read(dir.resolve("nowhere").toString()));
        assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
        assertTrue(missing.getMessage().contains("ml-100k.zip"), missing.getMessage());
    }

    @Test
    void readsFoldersOfEitherLayoutThroughAnyHadoopFileSystem(@TempDir Path dir) throws IOException {
        Path ml100k = SyntheticMovieLens.write100k(dir.resolve("ml-100k"), 30, 42, 500, 1);
        Path ml1m = SyntheticMovieLens.writeDat(dir.resolve("ml-1m"), 30, 42, 400, 1, true);
        int statusBefore = TestFileSystem.STATUS_CALLS.get();
        int opensBefore = TestFileSystem.OPENS.get();

        MovieLensData data = reader.read(TestFileSystem.uri(ml100k));
        assertEquals(MovieLensLayout.ML_100K, data.layout());
        assertEquals(500, data.ratings().count());
        assertEquals(42, data.movies().count());
        assertEquals(SyntheticMovieLens.title(7), data.movies().filter(col("movie_id").equalTo("7")).first().getString(1));

        MovieLensData dat = reader.read(TestFileSystem.uri(ml1m));
        assertEquals(MovieLensLayout.ML_1M, dat.layout());
        assertEquals(400, dat.ratings().count());
        assertEquals(SyntheticMovieLens.title(14), dat.movies().filter(col("movie_id").equalTo("14")).first().getString(1));

        assertTrue(TestFileSystem.STATUS_CALLS.get() > statusBefore, "the folder was checked through the Hadoop filesystem");
        assertTrue(TestFileSystem.OPENS.get() >= opensBefore + 4, "all four files were read through it");
        // A file: URI and a plain path read the same folder.
        assertEquals(500, reader.read(ml100k.toUri().toString()).ratings().count());
        assertEquals(500, reader.read(ml100k.toString()).ratings().count());
    }

    @Test
    void missingFolderOrFileThroughAHadoopFileSystemIsNamedByItsUri(@TempDir Path dir) throws IOException {
        MalformedInputException missing = assertThrows(MalformedInputException.class,
                () -> reader.read(TestFileSystem.uri(dir.resolve("nowhere"))));
        assertTrue(missing.getMessage().startsWith("data folder testfs:" + dir.resolve("nowhere") + " does not exist."),
                missing.getMessage());
        assertTrue(missing.getMessage().contains("ml-100k.zip"), missing.getMessage());

        Path folder = SyntheticMovieLens.writeDat(dir.resolve("ml-1m"), 10, 12, 50, 1, false);
        Files.delete(folder.resolve("movies.dat"));
        MalformedInputException noMovies = assertThrows(MalformedInputException.class,
                () -> reader.read(TestFileSystem.uri(folder)));
        assertTrue(noMovies.getMessage().startsWith("data folder testfs:" + folder + " holds neither u.data + u.item"),
                noMovies.getMessage());
        assertTrue(noMovies.getMessage().contains("ratings.dat + movies.dat"), noMovies.getMessage());

        MalformedInputException unknownScheme = assertThrows(MalformedInputException.class,
                () -> reader.read("nosuchfs://host" + folder));
        assertTrue(unknownScheme.getMessage().startsWith("data folder nosuchfs://host" + folder + " cannot be opened:"),
                unknownScheme.getMessage());
    }

    @Test
    void aMalformedLineReadThroughAHadoopFileSystemNamesTheFileByItsUri(@TempDir Path dir) throws IOException {
        SyntheticMovieLens.write100k(dir, 30, 42, 50, 1);
        List<String> lines = Files.readAllLines(dir.resolve("u.data"));
        lines.set(3, "12\t7\tfour\t881250949");
        Files.write(dir.resolve("u.data"), lines);
        MalformedInputException e = assertThrows(MalformedInputException.class, () -> failFast(TestFileSystem.uri(dir)));
        assertTrue(e.getMessage().startsWith("testfs:" + dir.resolve("u.data") + ":4: rating 'four' is not a number"),
                e.getMessage());
    }

    /** Reads and forces every row, unwrapping Spark's task failure to the input error. */
    private void failFast(Path dir) {
        failFast(dir.toString());
    }

    private void failFast(String dir) {
        try {
            MovieLensData data = reader.read(dir);
            data.ratings().count();
            data.movies().count();
        } catch (RuntimeException e) {
            MalformedInputException bad = MalformedInputException.find(e);
            throw bad != null ? bad : e;
        }
    }
}
