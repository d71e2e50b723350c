package io.deepretrieval.spark;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Writes small synthetic MovieLens folders for tests (MovieLens itself may not be redistributed). Users of group g
 * rate movies whose title carries the word of group g, so a trained model has something to find.
 */
public final class SyntheticMovieLens {
    public static final String[] WORDS = {"space", "western", "romance", "horror", "comedy", "noir"};
    /** u.item's 19 genre flags of every synthetic movie: Adventure (the third) only. */
    public static final String GENRE_FLAGS = "0|0|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0";

    private SyntheticMovieLens() {
    }

    /**
     * MovieLens 100k layout: u.data (tab-separated) and u.item (pipe-separated, ISO-8859-1, 24 fields as GroupLens's:
     * id, title, two dates, URL and 19 genre flags, every movie's only genre Adventure).
     */
    public static Path write100k(Path dir, int users, int movies, int ratings, long seed) throws IOException {
        Files.createDirectories(dir);
        StringBuilder items = new StringBuilder();
        for (int m = 1; m <= movies; m++) {
            items.append(m).append('|').append(title(m)).append("|01-Jan-1995||http://example.invalid|")
                    .append(GENRE_FLAGS).append('\n');
        }
        Files.writeString(dir.resolve("u.item"), items, StandardCharsets.ISO_8859_1);
        StringBuilder data = new StringBuilder();
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = 0; i < ratings; i++) {
            int[] r = rating(rng, users, movies);
            data.append(r[0]).append('\t').append(r[1]).append('\t').append(1 + rng.nextInt(5)).append('\t')
                    .append(880_000_000L + rng.nextInt(10_000_000)).append('\n');
        }
        Files.writeString(dir.resolve("u.data"), data, StandardCharsets.UTF_8);
        return dir;
    }

    /**
     * MovieLens 1M/10M layout: {@code ratings.dat} and {@code movies.dat}, {@code ::}-separated; movies in
     * ISO-8859-1 as in 1M ({@code latin1}) or UTF-8 as in 10M.
     */
    public static Path writeDat(Path dir, int users, int movies, int ratings, long seed, boolean latin1) throws IOException {
        Files.createDirectories(dir);
        StringBuilder items = new StringBuilder();
        for (int m = 1; m <= movies; m++) {
            items.append(m).append("::").append(title(m)).append("::Drama|Comedy\n");
        }
        Files.writeString(dir.resolve("movies.dat"), items, latin1 ? StandardCharsets.ISO_8859_1 : StandardCharsets.UTF_8);
        StringBuilder data = new StringBuilder();
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = 0; i < ratings; i++) {
            int[] r = rating(rng, users, movies);
            data.append(r[0]).append("::").append(r[1]).append("::").append(1 + rng.nextInt(5)).append("::")
                    .append(880_000_000L + rng.nextInt(10_000_000)).append('\n');
        }
        Files.writeString(dir.resolve("ratings.dat"), data, StandardCharsets.UTF_8);
        return dir;
    }

    /** Newer MovieLens CSV layout: ratings.csv and movies.csv with headers, UTF-8, quoted titles. */
    public static Path writeCsv(Path dir, int users, int movies, int ratings, long seed) throws IOException {
        Files.createDirectories(dir);
        StringBuilder items = new StringBuilder("movieId,title,genres\n");
        for (int m = 1; m <= movies; m++) {
            items.append(m).append(",\"").append(title(m).replace("\"", "\"\"")).append("\",Drama\n");
        }
        Files.writeString(dir.resolve("movies.csv"), items, StandardCharsets.UTF_8);
        StringBuilder data = new StringBuilder("userId,movieId,rating,timestamp\n");
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = 0; i < ratings; i++) {
            int[] r = rating(rng, users, movies);
            data.append(r[0]).append(',').append(r[1]).append(",4.5,").append(880_000_000L + rng.nextInt(10_000_000)).append('\n');
        }
        Files.writeString(dir.resolve("ratings.csv"), data, StandardCharsets.UTF_8);
        return dir;
    }

    /** Title of movie {@code m} (1-based): its group's word, a number, a year; every 7th has an accented letter. */
    public static String title(int m) {
        String word = WORDS[(m - 1) % WORDS.length];
        String accent = m % 7 == 0 ? "Café, " : "";
        return accent + "The " + word + " story " + m + " (" + (1950 + m % 50) + ")";
    }

    private static int[] rating(SplittableRandom rng, int users, int movies) {
        int user = 1 + rng.nextInt(users);
        int group = (user - 1) % WORDS.length;
        int perGroup = movies / WORDS.length;
        int movie = 1 + rng.nextInt(perGroup) * WORDS.length + group;
        return new int[]{user, movie};
    }
}
