package io.deepretrieval.spark.ingest;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Which MovieLens release a folder holds: the 100k layout ({@code u.data} tab-separated, {@code u.item}
 * pipe-separated in ISO-8859-1), the 1M/10M layout ({@code ratings.dat}, {@code movies.dat}, {@code ::}-separated;
 * 1M's movies are ISO-8859-1, 10M's UTF-8) or the CSV layout of newer releases ({@code ratings.csv},
 * {@code movies.csv} with headers, UTF-8).
 */
public enum MovieLensLayout {
    ML_100K("u.data", "u.item", "\t", "tabs", "\\|", "'|'", TextEncoding.LATIN1),
    ML_1M("ratings.dat", "movies.dat", "::", "'::'", "::", "'::'", TextEncoding.UTF8_ELSE_LATIN1),
    /** Movies are real CSV (quoted titles), so their separator is the CSV parser's. */
    CSV("ratings.csv", "movies.csv", ",", "commas", null, "','", TextEncoding.UTF8);

    /** How a file's bytes become text (ratings files are read as UTF-8 in every layout). */
    public enum TextEncoding {
        LATIN1,
        UTF8,
        /** Each line UTF-8, or ISO-8859-1 where it is not valid UTF-8 (1M's movies.dat is Latin-1, 10M's UTF-8). */
        UTF8_ELSE_LATIN1
    }

    private final String ratingsFile;
    private final String moviesFile;
    final String ratingsSeparator;
    final String ratingsSeparatorName;
    /** A regex, or null for CSV. */
    final String moviesSeparator;
    final String moviesSeparatorName;
    final TextEncoding moviesEncoding;

    MovieLensLayout(String ratingsFile, String moviesFile, String ratingsSeparator, String ratingsSeparatorName,
                    String moviesSeparator, String moviesSeparatorName, TextEncoding moviesEncoding) {
        this.ratingsFile = ratingsFile;
        this.moviesFile = moviesFile;
        this.ratingsSeparator = ratingsSeparator;
        this.ratingsSeparatorName = ratingsSeparatorName;
        this.moviesSeparator = moviesSeparator;
        this.moviesSeparatorName = moviesSeparatorName;
        this.moviesEncoding = moviesEncoding;
    }

    public Path ratings(Path dir) {
        return dir.resolve(ratingsFile);
    }

    public Path movies(Path dir) {
        return dir.resolve(moviesFile);
    }

    /** Detects the layout of {@code dir}, or explains what is missing and where the files should go. */
    public static MovieLensLayout detect(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new MalformedInputException("data folder " + dir.toAbsolutePath() + " does not exist. Put MovieLens 100k"
                    + " there (u.data and u.item from https://files.grouplens.org/datasets/movielens/ml-100k.zip),"
                    + " or run the 'download' command on a machine that is online.");
        }
        for (MovieLensLayout layout : values()) {
            if (Files.isRegularFile(layout.ratings(dir)) && Files.isRegularFile(layout.movies(dir))) {
                return layout;
            }
        }
        throw new MalformedInputException("data folder " + dir.toAbsolutePath() + " holds neither u.data + u.item"
                + " (MovieLens 100k), ratings.dat + movies.dat (MovieLens 1M, 10M) nor ratings.csv + movies.csv (newer"
                + " MovieLens releases)");
    }
}
