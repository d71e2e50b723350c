package io.deepretrieval.spark.ingest;

import io.deepretrieval.spark.preprocess.CountedJoin;
import io.deepretrieval.spark.preprocess.InteractionSplits;
import com.univocity.parsers.common.TextParsingException;
import com.univocity.parsers.csv.CsvParser;
import com.univocity.parsers.csv.CsvParserSettings;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.io.LongWritable;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.mapred.TextInputFormat;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.first;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

/**
 * Reads MovieLens ratings and movies into DataFrames, checking every line when read: a malformed line stops the
 * job with its file, line number and text (failFast), or is skipped and counted (dropMalformed).
 *
 * <p>Ratings: {@code user_id} (string, as the tutorial's lookup takes it), {@code movie_id} (string),
 * {@code timestamp} (long). Movies: {@code movie_id}, {@code title}.
 *
 * <p>What a line must be: exactly the layout's field count; ids decimal integers (ASCII digits, optional sign)
 * in the range of a Java {@code long}, kept in canonical form ({@code "007"} is movie {@code "7"}); a rating a
 * decimal number ({@code 4}, {@code 3.5}); a timestamp whole seconds from 1970-01-01 to 2100-01-01 UTC; a title
 * non-blank, valid text in the file's encoding and free of control characters. Blank lines are skipped, a UTF-8
 * byte-order mark at the start of a file is dropped (by Hadoop's line reader), and a header only belongs on the
 * first line of a CSV file. Ratings repeating an earlier line's user, movie and timestamp are kept and counted in
 * {@link MovieLensData#notes()}; a movies line repeating an earlier line's movie id is read once when it says
 * the same, and is malformed when it says otherwise.
 */
public final class MovieLensReader {
    public static final StructType RATINGS = new StructType()
            .add("user_id", DataTypes.StringType, true)
            .add("movie_id", DataTypes.StringType, true)
            .add("timestamp", DataTypes.LongType, true);
    public static final StructType MOVIES = new StructType()
            .add("movie_id", DataTypes.StringType, true)
            .add("title", DataTypes.StringType, true);

    private static final Logger LOG = LoggerFactory.getLogger(MovieLensReader.class);
    private static final int EXAMPLES = 5;
    /** The most characters of a field a problem quotes. */
    private static final int QUOTED_FIELD = 60;
    /** 2100-01-01T00:00:00Z in seconds: later timestamps are taken for a unit or clock mistake. */
    static final long LATEST_TIMESTAMP = 4_102_444_800L;
    private static final Pattern INTEGER = Pattern.compile("[+-]?[0-9]+");
    private static final Pattern DECIMAL = Pattern.compile("[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)");
    private final SparkSession spark;
    private final InputPolicy policy;
    private final List<DroppedLines> dropped = new ArrayList<>();
    private final List<InputNote> notes = new ArrayList<>();

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
        Dataset<Row> ratings = parse(layout.ratings(dir), MovieLensLayout.TextEncoding.UTF8, new RatingParser(layout),
                RATINGS, false);
        Dataset<Row> movies = parse(layout.movies(dir), layout.moviesEncoding, new MovieParser(layout), MOVIES, true);
        return new MovieLensData(ratings, movies, layout, List.copyOf(dropped), List.copyOf(notes));
    }

    /** The key columns of MovieLens ratings, for splitting them as the Estimator splits its own rows. */
    public static final InteractionSplits KEYS = new InteractionSplits("user_id", "movie_id", "timestamp");

    /**
     * The interactions of a MovieLens folder with their movies' titles, every line dropped on the way, and the
     * lines accepted with a note.
     */
    public record TitledRatings(Dataset<Row> table, List<DroppedLines> dropped, List<InputNote> notes) {
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
        return new TitledRatings(table, List.copyOf(lines), data.notes());
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
        Dataset<Row> genres = parse(layout.movies(dir), layout.moviesEncoding, new GenreParser(layout), GENRES, true);
        Path users = new Path(dir, layout == MovieLensLayout.ML_100K ? "u.user" : "users.dat");
        boolean hasUsers;
        try {
            hasUsers = layout != MovieLensLayout.CSV && fs.isFile(users);
        } catch (java.io.IOException e) {
            throw new MalformedInputException("cannot check " + users + ": " + e.getMessage());
        }
        return new SideFeatures(genres, hasUsers ? parse(users, MovieLensLayout.TextEncoding.UTF8_ELSE_LATIN1,
                new UserParser(layout), USERS, true) : null);
    }

    /** Genres per movie, and users' demographics (null when the release has none). */
    public record SideFeatures(Dataset<Row> genres, Dataset<Row> users) {
    }

    /**
     * The checked rows of {@code file}. {@code keyed}: the first column is a key (movies, users), so a line
     * repeating an earlier key is read once when its values are the same and is malformed otherwise; else (ratings)
     * repeated rows are kept and counted in the notes.
     */
    private Dataset<Row> parse(Path file, MovieLensLayout.TextEncoding encoding, LineParser parser, StructType schema,
                               boolean keyed) {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        String name = file.toString();
        int width = schema.size();
        noteAcceptedEncodings(sc, file, encoding);
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
        Dataset<Row> df = spark.createDataFrame(rows, checked);
        if (keyed) {
            df = markRepeatedKeys(df, schema);
        }
        df = df.cache();
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
        Dataset<Row> good = df.filter(col("_problem").isNull());
        if (keyed) {
            note(name, good.filter(col("_repeat")).count(), "repeating an earlier line's "
                    + names(schema.fieldNames(), 0) + ", read once");
            good = good.filter(col("_repeat").unary_$bang()).drop("_repeat");
        }
        good = good.drop("_line", "_problem", "_text");
        if (good.isEmpty()) {
            df.unpersist();
            throw new MalformedInputException(name + ": the file holds no records");
        }
        if (!keyed) {
            Column[] all = Arrays.stream(schema.fieldNames()).map(c -> col(c)).toArray(Column[]::new);
            Row repeats = good.groupBy(all).agg(count("*").as("n")).filter(col("n").gt(1))
                    .agg(sum(col("n").minus(1))).first();
            note(name, repeats.isNullAt(0) ? 0 : repeats.getLong(0), "repeating an earlier line's "
                    + names(schema.fieldNames(), 0) + ", kept as separate rows");
        }
        return good;
    }

    /**
     * Marks each line whose key (the first column) an earlier line has: {@code _repeat} when its values are the
     * same as the first such line's, a problem naming that line when they differ.
     */
    private static Dataset<Row> markRepeatedKeys(Dataset<Row> df, StructType schema) {
        String[] names = schema.fieldNames();
        String key = names[0];
        Column values = struct(Arrays.stream(names).skip(1).map(c -> col(c)).toArray(Column[]::new));
        WindowSpec byKey = Window.partitionBy(col(key)).orderBy(col("_line"));
        // Bad lines have no key, so they only meet each other and are never marked.
        Dataset<Row> marked = df.withColumn("_firstLine", first(col("_line")).over(byKey))
                .withColumn("_firstValues", first(values).over(byKey));
        Column later = col("_problem").isNull().and(col(key).isNotNull()).and(col("_line").gt(col("_firstLine")));
        Column same = col("_firstValues").eqNullSafe(values);
        return marked
                .withColumn("_problem", coalesce(col("_problem"), when(later.and(same.unary_$bang()),
                        concat(lit(key + " "), col(key), lit(" repeats line "), col("_firstLine").cast("string"),
                                lit(" with a different " + names(names, 1))))))
                .withColumn("_repeat", later.and(same))
                .drop("_firstLine", "_firstValues");
    }

    /** "a, b and c" of {@code names} from {@code from} on. */
    private static String names(String[] names, int from) {
        List<String> list = Arrays.asList(names).subList(from, names.length);
        return list.size() == 1 ? list.get(0)
                : String.join(", ", list.subList(0, list.size() - 1)) + " and " + list.get(list.size() - 1);
    }

    private void note(String file, long count, String note) {
        if (count > 0) {
            InputNote n = new InputNote(file, count, note);
            LOG.warn("{}", n);
            notes.add(n);
        }
    }

    /**
     * Notes what is accepted silently otherwise: a UTF-8 byte-order mark at the start (Hadoop's line reader drops
     * it), and in a file read line by line as UTF-8 else ISO-8859-1, the lines of the rarer of the two encodings.
     */
    private void noteAcceptedEncodings(JavaSparkContext sc, Path file, MovieLensLayout.TextEncoding encoding) {
        byte[] start = new byte[3];
        try (FSDataInputStream in = file.getFileSystem(sc.hadoopConfiguration()).open(file)) {
            int n = in.read(start, 0, 3);
            while (n >= 0 && n < 3) {
                int more = in.read(start, n, 3 - n);
                if (more < 0) {
                    break;
                }
                n += more;
            }
            if (n == 3 && (start[0] & 0xFF) == 0xEF && (start[1] & 0xFF) == 0xBB && (start[2] & 0xFF) == 0xBF) {
                note(file.toString(), 1, "starting with a UTF-8 byte-order mark, which is dropped");
            }
        } catch (IOException e) {
            return; // an unreadable file is reported by the read itself, naming it
        }
        if (encoding != MovieLensLayout.TextEncoding.UTF8_ELSE_LATIN1) {
            return;
        }
        Map<String, Long> kinds = sc.hadoopFile(file.toString(), TextInputFormat.class, LongWritable.class, Text.class)
                .map(kv -> charsetOf(kv._2())).countByValue();
        long utf8 = kinds.getOrDefault("utf8", 0L);
        long latin1 = kinds.getOrDefault("latin1", 0L);
        if (utf8 > 0 && latin1 > 0) {
            if (utf8 <= latin1) {
                note(file.toString(), utf8, "in UTF-8 among ISO-8859-1 lines, read as UTF-8");
            } else {
                note(file.toString(), latin1, "in ISO-8859-1 among UTF-8 lines, read as ISO-8859-1");
            }
        }
    }

    /** How a line decodes: "ascii" (either way), "utf8" (valid UTF-8 with other characters) or "latin1". */
    private static String charsetOf(Text line) {
        byte[] bytes = line.getBytes();
        int length = line.getLength();
        boolean ascii = true;
        for (int i = 0; i < length && ascii; i++) {
            ascii = bytes[i] >= 0;
        }
        if (ascii) {
            return "ascii";
        }
        try {
            StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes, 0, length));
            return "utf8";
        } catch (CharacterCodingException e) {
            return "latin1";
        }
    }

    private static String decode(Text line, MovieLensLayout.TextEncoding encoding) {
        byte[] bytes = line.getBytes();
        int length = line.getLength();
        return switch (encoding) {
            case LATIN1 -> new String(bytes, 0, length, StandardCharsets.ISO_8859_1);
            case UTF8 -> new String(bytes, 0, length, StandardCharsets.UTF_8);
            case UTF8_ELSE_LATIN1 -> {
                // Strict UTF-8 is self-checking: a Latin-1 line with accents does not decode, so it is read as Latin-1.
                try {
                    yield StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes, 0, length)).toString();
                } catch (CharacterCodingException e) {
                    yield new String(bytes, 0, length, StandardCharsets.ISO_8859_1);
                }
            }
        };
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

    /** A ratings line: user, movie, rating, timestamp. */
    record RatingParser(MovieLensLayout layout) implements LineParser {
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
            // Not Double.parseDouble: it takes NaN, Infinity, hex and "4d".
            if (!DECIMAL.matcher(f[2].strip()).matches()) {
                throw new BadLine("rating " + quote(f[2]) + " is not a number");
            }
            long ts = Long.parseLong(integer(f[3].strip(), "timestamp"));
            if (ts < 0) {
                throw new BadLine("timestamp " + ts + " is before 1970-01-01");
            }
            if (ts > LATEST_TIMESTAMP) {
                throw new BadLine("timestamp " + ts + " is after 2100-01-01");
            }
            return new Object[]{user, movie, ts};
        }
    }

    /** A movies line: its id and title, from exactly the layout's fields. */
    record MovieParser(MovieLensLayout layout) implements LineParser {
        @Override
        public boolean isHeader(String firstLine) {
            return layout == MovieLensLayout.CSV && firstLine.startsWith("movieId");
        }

        @Override
        public Object[] parse(String line) {
            String[] f = movieFields(layout, line);
            String movie = integer(f[0] == null ? "" : f[0].strip(), "movie id");
            String title = f[1] == null ? "" : f[1];
            if (title.isBlank()) {
                throw new BadLine("empty title");
            }
            if (title.indexOf('\uFFFD') >= 0) {
                throw new BadLine("title is not valid text in the expected encoding");
            }
            for (int i = 0; i < title.length(); i++) {
                if (Character.isISOControl(title.charAt(i))) {
                    throw new BadLine(String.format("title contains control character U+%04X", (int) title.charAt(i)));
                }
            }
            return new Object[]{movie, title};
        }
    }

    /** A movies line's id and genres (100k: its 19 flags). */
    record GenreParser(MovieLensLayout layout) implements LineParser {
        @Override
        public boolean isHeader(String firstLine) {
            return new MovieParser(layout).isHeader(firstLine);
        }

        @Override
        public Object[] parse(String line) {
            String[] f = movieFields(layout, line);
            String movie = integer(f[0] == null ? "" : f[0].strip(), "movie id");
            List<String> genres = new ArrayList<>();
            if (layout == MovieLensLayout.ML_100K) {
                for (int i = 5; i < f.length; i++) {
                    if (f[i].strip().equals("1")) {
                        genres.add(GENRES_100K.get(i - 5));
                    } else if (!f[i].strip().equals("0")) {
                        throw new BadLine("genre flag " + (i - 4) + " (" + quote(f[i]) + ") is neither 0 nor 1");
                    }
                }
            } else if (f[2] != null) {
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
            String age = integer(ml100k ? f[1].strip() : f[2].strip(), "age");
            if (age.length() > 3) {
                throw new BadLine("age " + quote(age) + " is not an age");
            }
            String gender = (ml100k ? f[2] : f[1]).strip();
            String zip = f[4].strip();
            return new Object[]{user, Integer.valueOf(age), gender, f[3].strip(), zip.substring(0, Math.min(3, zip.length()))};
        }
    }

    /**
     * A movies line's fields, exactly the layout's count of them. CSV fields keep their spaces, as the other
     * layouts' do, and an empty CSV field is null.
     */
    static String[] movieFields(MovieLensLayout layout, String line) {
        String[] f;
        if (layout.moviesSeparator != null) {
            f = line.split(layout.moviesSeparator, -1);
        } else {
            CsvParserSettings settings = new CsvParserSettings();
            settings.setMaxCharsPerColumn(-1);
            settings.setIgnoreLeadingWhitespaces(false);
            settings.setIgnoreTrailingWhitespaces(false);
            settings.setCommentProcessingEnabled(false); // else a line starting with '#' reads as no fields
            try {
                f = new CsvParser(settings).parseLine(line);
            } catch (TextParsingException e) {
                // Univocity's limit of 512 columns: far more than any layout has.
                throw new BadLine("expected " + layout.moviesFields + " fields (" + layout.moviesFieldNames
                        + ") separated by " + layout.moviesSeparatorName + ", found more than " + settings.getMaxColumns());
            }
        }
        int found = f == null ? 0 : f.length;
        if (found != layout.moviesFields) {
            throw new BadLine("expected " + layout.moviesFields + " fields (" + layout.moviesFieldNames
                    + ") separated by " + layout.moviesSeparatorName + ", found " + found);
        }
        return f;
    }

    /**
     * {@code value} as an id (or count) in canonical form, when it is a decimal integer of ASCII digits with an
     * optional sign in the range of a Java {@code long}; else a {@link BadLine} naming {@code what}.
     */
    static String integer(String value, String what) {
        if (!INTEGER.matcher(value).matches()) {
            throw new BadLine(what + " " + quote(value) + " is not an integer");
        }
        try {
            return Long.toString(Long.parseLong(value));
        } catch (NumberFormatException e) {
            throw new BadLine(what + " " + quote(value) + " is not an integer in the long range");
        }
    }

    /** A field's text for a problem, in quotes, abbreviated (a field can be megabytes). */
    private static String quote(String value) {
        return "'" + MalformedInputException.abbreviate(value, QUOTED_FIELD) + "'";
    }
}
