package io.deepretrieval.spark.ingest;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.FileNotFoundException;
import java.io.IOException;

/**
 * Which MovieLens release a folder holds: the 100k layout ({@code u.data} tab-separated, {@code u.item}
 * pipe-separated in ISO-8859-1, 24 fields), the 1M/10M layout ({@code ratings.dat}, {@code movies.dat},
 * {@code ::}-separated; 1M's movies are ISO-8859-1, 10M's UTF-8; 3 movie fields) or the CSV layout of newer
 * releases ({@code ratings.csv}, {@code movies.csv} with headers, UTF-8, 3 movie fields). A movies line is read
 * as UTF-8 when it is valid UTF-8, else as ISO-8859-1, except in the CSV layout (UTF-8 only); Latin-1 text with
 * accents is almost never valid UTF-8, so this reads both a Latin-1 file and UTF-8 lines pasted into it.
 *
 * <p>Folders are Hadoop paths ({@code hdfs://nn/ml-1m}, {@code s3a://bucket/ml-100k}, {@code file:///data/ml-100k}
 * or a plain local path), checked through Hadoop's {@link FileSystem}, never {@code java.nio}.
 */
public enum MovieLensLayout {
    ML_100K("u.data", "u.item", "\t", "tabs", "\\|", "'|'", 24,
            "movie id, title, release date, video release date, IMDb URL, 19 genre flags", TextEncoding.UTF8_ELSE_LATIN1),
    ML_1M("ratings.dat", "movies.dat", "::", "'::'", "::", "'::'", 3, "movie id, title, genres",
            TextEncoding.UTF8_ELSE_LATIN1),
    /** Movies are real CSV (quoted titles), so their separator is the CSV parser's. */
    CSV("ratings.csv", "movies.csv", ",", "commas", null, "','", 3, "movie id, title, genres", TextEncoding.UTF8);

    /** How a file's bytes become text (ratings files are read as UTF-8 in every layout). */
    public enum TextEncoding {
        LATIN1,
        /** UTF-8; bytes that are not become U+FFFD, which the parsers reject in titles (and ids never match). */
        UTF8,
        /**
         * Each line UTF-8, or ISO-8859-1 where it is not valid UTF-8 (100k's u.item and 1M's movies.dat are Latin-1,
         * 10M's movies.dat UTF-8; an edited Latin-1 file may hold UTF-8 lines).
         */
        UTF8_ELSE_LATIN1
    }

    private final String ratingsFile;
    private final String moviesFile;
    final String ratingsSeparator;
    final String ratingsSeparatorName;
    /** A regex, or null for CSV. */
    final String moviesSeparator;
    final String moviesSeparatorName;
    /** A movies line's exact field count, and the fields' names for messages. */
    final int moviesFields;
    final String moviesFieldNames;
    final TextEncoding moviesEncoding;

    MovieLensLayout(String ratingsFile, String moviesFile, String ratingsSeparator, String ratingsSeparatorName,
                    String moviesSeparator, String moviesSeparatorName, int moviesFields, String moviesFieldNames,
                    TextEncoding moviesEncoding) {
        this.ratingsFile = ratingsFile;
        this.moviesFile = moviesFile;
        this.ratingsSeparator = ratingsSeparator;
        this.ratingsSeparatorName = ratingsSeparatorName;
        this.moviesSeparator = moviesSeparator;
        this.moviesSeparatorName = moviesSeparatorName;
        this.moviesFields = moviesFields;
        this.moviesFieldNames = moviesFieldNames;
        this.moviesEncoding = moviesEncoding;
    }

    public Path ratings(Path dir) {
        return new Path(dir, ratingsFile);
    }

    public Path movies(Path dir) {
        return new Path(dir, moviesFile);
    }

    /**
     * The folder named by {@code dir} (a Hadoop path or URI; a path without a scheme is the default filesystem's,
     * local unless {@code fs.defaultFS} says otherwise, and relative ones are resolved against its working
     * directory), fully qualified, as the error messages and the reader name it.
     */
    public static Path qualify(Configuration conf, String dir) {
        if (dir == null || dir.isBlank()) {
            throw new MalformedInputException("data folder: no path given; name a MovieLens folder (a local path or a"
                    + " Hadoop URI such as hdfs://namenode/data/ml-100k)");
        }
        Path path;
        try {
            path = new Path(dir);
        } catch (IllegalArgumentException e) {
            throw new MalformedInputException("data folder '" + dir + "' is not a valid path or URI: " + e.getMessage());
        }
        return fileSystem(conf, path).makeQualified(path);
    }

    /** Detects the layout of {@code dir} (see {@link #qualify}), or explains what is missing and where the files should go. */
    public static MovieLensLayout detect(Configuration conf, String dir) {
        Path qualified = qualify(conf, dir);
        return detect(fileSystem(conf, qualified), qualified);
    }

    /** Detects the layout of the qualified folder {@code dir} on {@code fs}. */
    public static MovieLensLayout detect(FileSystem fs, Path dir) {
        try {
            if (!isDirectory(fs, dir)) {
                throw new MalformedInputException("data folder " + dir + " does not exist. Put MovieLens 100k"
                        + " there (u.data and u.item from https://files.grouplens.org/datasets/movielens/ml-100k.zip),"
                        + " or run the 'download' command on a machine that is online.");
            }
            for (MovieLensLayout layout : values()) {
                if (isFile(fs, layout.ratings(dir)) && isFile(fs, layout.movies(dir))) {
                    return layout;
                }
            }
        } catch (IOException e) {
            throw new MalformedInputException("data folder " + dir + " cannot be read: " + e);
        }
        throw new MalformedInputException("data folder " + dir + " holds neither u.data + u.item"
                + " (MovieLens 100k), ratings.dat + movies.dat (MovieLens 1M, 10M) nor ratings.csv + movies.csv (newer"
                + " MovieLens releases)");
    }

    static FileSystem fileSystem(Configuration conf, Path path) {
        try {
            return path.getFileSystem(conf);
        } catch (IOException e) {
            // E.g. "No FileSystem for scheme" when the scheme's connector (hadoop-aws for s3a) is not on the classpath.
            throw new MalformedInputException("data folder " + path + " cannot be opened: " + e.getMessage());
        }
    }

    // One getFileStatus call each (FileSystem.isFile/isDirectory are deprecated; object stores answer both alike).
    private static boolean isDirectory(FileSystem fs, Path p) throws IOException {
        FileStatus status = status(fs, p);
        return status != null && status.isDirectory();
    }

    private static boolean isFile(FileSystem fs, Path p) throws IOException {
        FileStatus status = status(fs, p);
        return status != null && status.isFile();
    }

    private static FileStatus status(FileSystem fs, Path p) throws IOException {
        try {
            return fs.getFileStatus(p);
        } catch (FileNotFoundException e) {
            return null;
        }
    }
}
