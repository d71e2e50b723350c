package io.deepretrieval.spark.ingest;

import io.deepretrieval.spark.preprocess.CountedJoin;
import io.deepretrieval.spark.preprocess.InteractionSplits;
import com.univocity.parsers.csv.CsvParser;
import com.univocity.parsers.csv.CsvParserSettings;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.io.LongWritable;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.mapred.TextInputFormat;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.col;

/**
 * Reads MovieLens ratings and movies into DataFrames, checking every line when read: a malformed line stops the
 * job with its file, line number and text.
 *
 * <p>Ratings: {@code user_id} (string, as the tutorial's lookup takes it), {@code movie_id} (string),
 * {@code timestamp} (long). Movies: {@code movie_id}, {@code title}.
 */
public final class MovieLensReader {
    public static final StructType RATINGS = new StructType()
            .add("user_id", DataTypes.StringType, true)
            .add("movie_id", DataTypes.StringType, true)
            .add("timestamp", DataTypes.LongType, true);
    public static final StructType MOVIES = new StructType()
            .add("movie_id", DataTypes.StringType, true)
            .add("title", DataTypes.StringType, true);

    private static final int EXAMPLES = 5;
    private final SparkSession spark;
    private final InputPolicy policy;
    private final List<DroppedLines> dropped = new java.util.ArrayList<>();

    public MovieLensReader(SparkSession spark) {
        this(spark, InputPolicy.FAIL_FAST);
    }

    public MovieLensReader(SparkSession spark, InputPolicy policy) {
        this.spark = spark;
        this.policy = policy;
    }

    /**
     * The ratings and movies of a MovieLens folder of any layout, at a Hadoop path or URI ({@code hdfs://nn/ml-1m},
     * {@code s3a://bucket/ml-100k}, {@code file:///data/ml-100k}, or a plain path on the default filesystem),
     * checked and read through the session's Hadoop configuration.
     */
    public MovieLensData read(String folder) {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        Path dir = MovieLensLayout.qualify(conf, folder);
        MovieLensLayout layout = MovieLensLayout.detect(MovieLensLayout.fileSystem(conf, dir), dir);
        Dataset<Row> ratings = parse(layout.ratings(dir), MovieLensLayout.TextEncoding.UTF8, new RatingParser(layout), RATINGS);
        Dataset<Row> movies = parse(layout.movies(dir), layout.moviesEncoding, new MovieParser(layout), MOVIES);
        return new MovieLensData(ratings, movies, layout, List.copyOf(dropped));
    }

    /** The key columns of MovieLens ratings, for splitting them as the Estimator splits its own rows. */
    public static final InteractionSplits KEYS = new InteractionSplits("user_id", "movie_id", "timestamp");

    /** The interactions of a MovieLens folder with their movies' titles, and every line dropped on the way. */
    public record TitledRatings(Dataset<Row> table, List<DroppedLines> dropped) {
    }

    /**
     * The tutorial's interactions: every rating ({@code user_id, movie_id, timestamp}) with its movie's
     * {@code title}. Ratings of a movie the movies file lacks stop the job under failFast and are dropped and
     * counted under dropMalformed (see {@link #withKnownMovies}).
     */
    public TitledRatings readTitledRatings(String folder) {
        MovieLensData data = read(folder);
        List<DroppedLines> lines = new ArrayList<>(data.dropped());
        Dataset<Row> ratings = withKnownMovies(data.ratings(), data.movies(), policy, lines);
        Dataset<Row> table = CountedJoin.join(ratings, data.movies(), "movie_id", true, "movies").rows();
        return new TitledRatings(table, List.copyOf(lines));
    }

    /**
     * Ratings whose movie is in {@code movies}. Any other rating stops the job under failFast; under dropMalformed
     * it is skipped and counted in {@code dropped}. Run before fitting, so dropped ratings shape no vocabulary.
     */
    public static Dataset<Row> withKnownMovies(Dataset<Row> ratings, Dataset<Row> movies, InputPolicy policy,
                                               List<DroppedLines> dropped) {
        Dataset<Row> ids = movies.select("movie_id").distinct();
        Dataset<Row> unknown = ratings.join(broadcast(ids), ratings.col("movie_id").equalTo(ids.col("movie_id")), "left_anti");
        List<Row> examples = unknown.select("movie_id").distinct().orderBy("movie_id").limit(5).collectAsList();
        if (examples.isEmpty()) {
            return ratings;
        }
        long n = unknown.count();
        String problem = n + " ratings reference movies missing from the movies file, e.g. movie ids "
                + examples.stream().map(r -> r.getString(0)).toList();
        if (policy == InputPolicy.FAIL_FAST) {
            throw new MalformedInputException(problem);
        }
        dropped.add(new DroppedLines("ratings referencing unknown movies", n, List.of(problem)));
        return ratings.join(broadcast(ids), ratings.col("movie_id").equalTo(ids.col("movie_id")), "left_semi");
    }

    /** Movies' genres: {@code movie_id}, {@code genres} (array of genre names; empty when none is listed). */
    public static final StructType GENRES = new StructType()
            .add("movie_id", DataTypes.StringType, true)
            .add("genres", DataTypes.createArrayType(DataTypes.StringType, false), true);
    /** Users' demographics (100k {@code u.user}, 1M {@code users.dat}); 1M's age is its bucket, its occupation a code. */
    public static final StructType USERS = new StructType()
            .add("user_id", DataTypes.StringType, true)
            .add("age", DataTypes.IntegerType, true)
            .add("gender", DataTypes.StringType, true)
            .add("occupation", DataTypes.StringType, true)
            .add("zip_prefix", DataTypes.StringType, true);
    /** u.item's 19 genre flags, in order (u.genre). */
    static final List<String> GENRES_100K = List.of("unknown", "Action", "Adventure", "Animation", "Children's",
            "Comedy", "Crime", "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
            "Romance", "Sci-Fi", "Thriller", "War", "Western");

    /**
     * The side features of a MovieLens folder: every movie's genres, and the users' demographics where the release
     * has them ({@code u.user} in 100k, {@code users.dat} in 1M; null otherwise). Checked line by line as
     * {@link #read} does.
     */
    public SideFeatures readSideFeatures(String folder) {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        Path dir = MovieLensLayout.qualify(conf, folder);
        org.apache.hadoop.fs.FileSystem fs = MovieLensLayout.fileSystem(conf, dir);
        MovieLensLayout layout = MovieLensLayout.detect(fs, dir);
        Dataset<Row> genres = parse(layout.movies(dir), layout.moviesEncoding, new GenreParser(layout), GENRES);
        Path users = new Path(dir, layout == MovieLensLayout.ML_100K ? "u.user" : "users.dat");
        boolean hasUsers;
        try {
            hasUsers = layout != MovieLensLayout.CSV && fs.isFile(users);
        } catch (java.io.IOException e) {
            throw new MalformedInputException("cannot check " + users + ": " + e.getMessage());
        }
        return new SideFeatures(genres, hasUsers ? parse(users, MovieLensLayout.TextEncoding.UTF8_ELSE_LATIN1,
                new UserParser(layout), USERS) : null);
    }

    /** Genres per movie, and users' demographics (null when the release has none). */
    public record SideFeatures(Dataset<Row> genres, Dataset<Row> users) {
    }

    private Dataset<Row> parse(Path file, MovieLensLayout.TextEncoding encoding, LineParser parser, StructType schema) {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        String name = file.toString();
        int width = schema.size();
        // Hadoop's Text holds the raw bytes, so the charset is ours to choose (u.item is ISO-8859-1).
        // A bad line becomes a row carrying its problem instead of failing a task, so the driver can report the
        // first one by line number (task failures reach the driver as text only).
        JavaRDD<Row> rows = sc.hadoopFile(name, TextInputFormat.class, LongWritable.class, Text.class)
                .map(kv -> decode(kv._2(), encoding))
                .zipWithIndex()
                .filter(t -> !(t._2() == 0 && parser.isHeader(t._1())) && !t._1().isBlank())
                .map(t -> {
                    Object[] values = new Object[width + 3];
                    values[width] = t._2() + 1;
                    try {
                        System.arraycopy(parser.parse(t._1()), 0, values, 0, width);
                    } catch (BadLine e) {
                        values[width + 1] = e.getMessage();
                        values[width + 2] = t._1();
                    }
                    return RowFactory.create(values);
                });
        StructType checked = schema.add("_line", DataTypes.LongType).add("_problem", DataTypes.StringType)
                .add("_text", DataTypes.StringType);
        Dataset<Row> df = spark.createDataFrame(rows, checked).cache();
        Dataset<Row> badRows = df.filter(col("_problem").isNotNull()).orderBy("_line");
        List<Row> firstBad = badRows.limit(policy == InputPolicy.FAIL_FAST ? 1 : EXAMPLES).collectAsList();
        if (!firstBad.isEmpty()) {
            if (policy == InputPolicy.FAIL_FAST) {
                Row bad = firstBad.get(0);
                df.unpersist();
                throw new MalformedInputException(name, bad.getLong(width), bad.getString(width + 1), bad.getString(width + 2));
            }
            List<String> examples = firstBad.stream().map(r -> new MalformedInputException(name, r.getLong(width),
                    r.getString(width + 1), r.getString(width + 2)).getMessage()).toList();
            dropped.add(new DroppedLines(name, badRows.count(), examples));
        }
        Dataset<Row> good = df.filter(col("_problem").isNull()).drop("_line", "_problem", "_text");
        if (good.isEmpty()) {
            df.unpersist();
            throw new MalformedInputException(name + ": the file holds no records");
        }
        return good;
    }

    private static String decode(Text line, MovieLensLayout.TextEncoding encoding) {
        String utf8 = encoding == MovieLensLayout.TextEncoding.LATIN1 ? null
                : new String(line.getBytes(), 0, line.getLength(), StandardCharsets.UTF_8);
        // Strict UTF-8 is self-checking: a Latin-1 line with accents does not decode, so it is read as Latin-1.
        boolean latin1 = encoding == MovieLensLayout.TextEncoding.LATIN1
                || (encoding == MovieLensLayout.TextEncoding.UTF8_ELSE_LATIN1 && utf8.indexOf('\uFFFD') >= 0);
        return latin1 ? new String(line.getBytes(), 0, line.getLength(), StandardCharsets.ISO_8859_1) : utf8;
    }

    /** A line's problem, without its location (added where the line is known). */
    static final class BadLine extends RuntimeException {
        BadLine(String problem) {
            super(problem, null, false, false);
        }
    }

    /** Turns one line into a row, or throws {@link MalformedInputException}. */
    interface LineParser extends Serializable {
        /** The row's values, or throws {@link BadLine}. */
        Object[] parse(String line);

        boolean isHeader(String firstLine);
    }

    private record RatingParser(MovieLensLayout layout) implements LineParser {
        @Override
        public boolean isHeader(String firstLine) {
            return layout == MovieLensLayout.CSV && firstLine.startsWith("userId");
        }

        @Override
        public Object[] parse(String line) {
            String[] f = line.split(layout.ratingsSeparator, -1);
            if (f.length != 4) {
                throw new BadLine("expected 4 fields (user, movie, rating, timestamp) separated by "
                        + layout.ratingsSeparatorName + ", found " + f.length);
            }
            String user = integer(f[0].strip(), "user id");
            String movie = integer(f[1].strip(), "movie id");
            try {
                Double.parseDouble(f[2].strip());
            } catch (NumberFormatException e) {
                throw new BadLine("rating '" + f[2] + "' is not a number");
            }
            long ts;
            try {
                ts = Long.parseLong(f[3].strip());
            } catch (NumberFormatException e) {
                throw new BadLine("timestamp '" + f[3] + "' is not an integer");
            }
            return new Object[]{user, movie, ts};
        }
    }

    private record MovieParser(MovieLensLayout layout) implements LineParser {
        @Override
        public boolean isHeader(String firstLine) {
            return layout == MovieLensLayout.CSV && firstLine.startsWith("movieId");
        }

        @Override
        public Object[] parse(String line) {
            String[] f;
            if (layout.moviesSeparator != null) {
                f = line.split(layout.moviesSeparator, -1);
            } else {
                f = new CsvParser(csvSettings()).parseLine(line);
            }
            if (f == null || f.length < 2) {
                throw new BadLine("expected a movie id and a title separated by " + layout.moviesSeparatorName);
            }
            String movie = integer(f[0] == null ? "" : f[0].strip(), "movie id");
            String title = f[1] == null ? "" : f[1];
            if (title.isBlank()) {
                throw new BadLine("empty title");
            }
            if (title.indexOf('\uFFFD') >= 0) {
                throw new BadLine("title is not valid text in the expected encoding");
            }
            return new Object[]{movie, title};
        }
    }

    private record GenreParser(MovieLensLayout layout) implements LineParser {
        @Override
        public boolean isHeader(String firstLine) {
            return new MovieParser(layout).isHeader(firstLine);
        }

        @Override
        public Object[] parse(String line) {
            String[] f = layout.moviesSeparator != null ? line.split(layout.moviesSeparator, -1)
                    : new CsvParser(csvSettings()).parseLine(line);
            String movie = integer(f == null || f.length < 1 || f[0] == null ? "" : f[0].strip(), "movie id");
            List<String> genres = new java.util.ArrayList<>();
            if (layout == MovieLensLayout.ML_100K) {
                for (int i = 5; i < f.length && i - 5 < GENRES_100K.size(); i++) {
                    if (f[i].strip().equals("1")) {
                        genres.add(GENRES_100K.get(i - 5));
                    } else if (!f[i].strip().equals("0")) {
                        throw new BadLine("genre flag " + (i - 4) + " ('" + f[i] + "') is neither 0 nor 1");
                    }
                }
            } else {
                if (f.length < 3 || f[2] == null) {
                    throw new BadLine("expected a movie id, a title and genres separated by " + layout.moviesSeparatorName);
                }
                for (String g : f[2].split("\\|")) {
                    if (!g.isBlank() && !g.equals("(no genres listed)")) {
                        genres.add(g.strip());
                    }
                }
            }
            return new Object[]{movie, genres.toArray(String[]::new)};
        }
    }

    private record UserParser(MovieLensLayout layout) implements LineParser {
        @Override
        public boolean isHeader(String firstLine) {
            return false;
        }

        @Override
        public Object[] parse(String line) {
            boolean ml100k = layout == MovieLensLayout.ML_100K;
            String[] f = line.split(ml100k ? "\\|" : "::", -1);
            if (f.length != 5) {
                throw new BadLine("expected 5 fields (" + (ml100k ? "user id|age|gender|occupation|zip code"
                        : "UserID::Gender::Age::Occupation::Zip-code") + "), found " + f.length);
            }
            String user = integer(f[0].strip(), "user id");
            String age = ml100k ? f[1].strip() : f[2].strip();
            integer(age, "age");
            String gender = (ml100k ? f[2] : f[1]).strip();
            String zip = f[4].strip();
            return new Object[]{user, Integer.valueOf(age), gender, f[3].strip(), zip.substring(0, Math.min(3, zip.length()))};
        }
    }

    private static CsvParserSettings csvSettings() {
        CsvParserSettings settings = new CsvParserSettings();
        settings.setMaxCharsPerColumn(-1);
        return settings;
    }

    private static String integer(String value, String what) {
        try {
            Long.parseLong(value);
            return value;
        } catch (NumberFormatException e) {
            throw new BadLine(what + " '" + value + "' is not an integer");
        }
    }
}
