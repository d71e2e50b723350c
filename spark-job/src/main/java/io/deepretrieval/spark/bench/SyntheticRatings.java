package io.deepretrieval.spark.bench;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * MovieLens-shaped synthetic data for scaling benchmarks, in the CSV layout of newer MovieLens releases:
 * users and movies in MovieLens-like proportions, Zipf-skewed user activity and movie popularity, titles of
 * Zipf-drawn words plus a year, timestamps over three years. Seeded, so a size always gives the same files.
 */
public final class SyntheticRatings {
    private static final String[] SYLLABLES = {"ka", "lo", "mi", "ra", "ne", "to", "su", "vi", "de", "an", "or", "el"};

    private SyntheticRatings() {
    }

    /** Writes {@code ratings.csv} and {@code movies.csv} under {@code dir} unless a complete copy is there. */
    public static Path write(Path dir, long ratings, long seed) throws IOException {
        Path done = dir.resolve(".complete");
        if (Files.exists(done)) {
            return dir;
        }
        Files.createDirectories(dir);
        // ML-1M: 6,040 users and 3,706 movies for 1M ratings; ML-10M: 69,878 and 10,677 for 10M.
        int users = (int) Math.max(100, ratings / 160);
        int movies = (int) Math.min(11_000, Math.max(200, ratings / 270));
        SplittableRandom rng = new SplittableRandom(seed);
        int words = 5_000;
        try (BufferedWriter out = Files.newBufferedWriter(dir.resolve("movies.csv"), StandardCharsets.UTF_8)) {
            out.write("movieId,title,genres\n");
            for (int m = 1; m <= movies; m++) {
                StringBuilder title = new StringBuilder();
                int n = 1 + rng.nextInt(4);
                for (int w = 0; w < n; w++) {
                    title.append(w == 0 ? "" : " ").append(word(zipf(rng, words)));
                }
                title.append(" (").append(1930 + rng.nextInt(90)).append(')');
                out.write(m + ",\"" + title + "\",Drama\n");
            }
        }
        long start = 880_000_000L;
        try (BufferedWriter out = Files.newBufferedWriter(dir.resolve("ratings.csv"), StandardCharsets.UTF_8)) {
            out.write("userId,movieId,rating,timestamp\n");
            StringBuilder line = new StringBuilder(48);
            for (long i = 0; i < ratings; i++) {
                line.setLength(0);
                line.append(1 + zipf(rng, users)).append(',').append(1 + zipf(rng, movies)).append(',')
                        .append(1 + rng.nextInt(5)).append(',').append(start + rng.nextLong(94_000_000L)).append('\n');
                out.append(line);
            }
        }
        Files.writeString(done, "");
        return dir;
    }

    /** A Zipf-like draw in 0..n-1 (s ≈ 1) by inverting the continuous approximation of its CDF. */
    private static int zipf(SplittableRandom rng, int n) {
        double u = rng.nextDouble();
        int k = (int) Math.floor(Math.exp(u * Math.log(n + 1.0))) - 1;
        return Math.min(n - 1, Math.max(0, k));
    }

    private static String word(int index) {
        StringBuilder w = new StringBuilder();
        int i = index;
        do {
            w.append(SYLLABLES[i % SYLLABLES.length]);
            i /= SYLLABLES.length;
        } while (i > 0);
        return w.toString();
    }
}
