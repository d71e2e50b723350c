package io.deepretrieval.spark.ingest;

import com.univocity.parsers.csv.CsvParser;
import com.univocity.parsers.csv.CsvParserSettings;
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
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Reads MovieLens ratings and movies into DataFrames, checking every line: a malformed line stops the job with
 * its file, line number and text.
 *
 * <p>Ratings: {@code user_id} (string, as the tutorial's lookup takes it), {@code movie_id} (string),
 * {@code timestamp} (long). Movies: {@code movie_id}, {@code title}.
 */
public final class MovieLensReader {
    public static final StructType RATINGS = new StructType()
            .add("user_id", DataTypes.StringType, false)
            .add("movie_id", DataTypes.StringType, false)
            .add("timestamp", DataTypes.LongType, false);
    public static final StructType MOVIES = new StructType()
            .add("movie_id", DataTypes.StringType, false)
            .add("title", DataTypes.StringType, false);

    private final SparkSession spark;

    public MovieLensReader(SparkSession spark) {
        this.spark = spark;
    }

    /** The ratings and movies of a MovieLens folder of either layout. */
    public MovieLensData read(Path dir) {
        MovieLensLayout layout = MovieLensLayout.detect(dir);
        Charset moviesCharset = layout == MovieLensLayout.ML_100K ? StandardCharsets.ISO_8859_1 : StandardCharsets.UTF_8;
        Dataset<Row> ratings = parse(layout.ratings(dir), StandardCharsets.UTF_8, new RatingParser(layout), RATINGS);
        Dataset<Row> movies = parse(layout.movies(dir), moviesCharset, new MovieParser(layout), MOVIES);
        return new MovieLensData(ratings, movies, layout);
    }

    private Dataset<Row> parse(Path file, Charset charset, LineParser parser, StructType schema) {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        String name = file.toString();
        String charsetName = charset.name();
        // Hadoop's Text holds the raw bytes, so the charset is ours to choose (u.item is ISO-8859-1).
        JavaRDD<Row> rows = sc.hadoopFile(file.toUri().toString(), TextInputFormat.class, LongWritable.class, Text.class)
                .map(kv -> new String(kv._2().getBytes(), 0, kv._2().getLength(), Charset.forName(charsetName)))
                .zipWithIndex()
                .filter(t -> !(t._2() == 0 && parser.isHeader(t._1())) && !t._1().isBlank())
                .map(t -> parser.parse(t._1(), name, t._2() + 1));
        Dataset<Row> df = spark.createDataFrame(rows, schema);
        if (df.isEmpty()) {
            throw new MalformedInputException(name + ": the file holds no records");
        }
        return df;
    }

    /** Turns one line into a row, or throws {@link MalformedInputException}. */
    interface LineParser extends Serializable {
        Row parse(String line, String file, long lineNumber);

        boolean isHeader(String firstLine);
    }

    private record RatingParser(MovieLensLayout layout) implements LineParser {
        @Override
        public boolean isHeader(String firstLine) {
            return layout == MovieLensLayout.CSV && firstLine.startsWith("userId");
        }

        @Override
        public Row parse(String line, String file, long lineNumber) {
            String[] f = layout == MovieLensLayout.ML_100K ? line.split("\t", -1) : line.split(",", -1);
            if (f.length != 4) {
                throw new MalformedInputException(file, lineNumber, "expected 4 fields (user, movie, rating, timestamp)"
                        + " separated by " + (layout == MovieLensLayout.ML_100K ? "tabs" : "commas") + ", found " + f.length, line);
            }
            String user = integer(f[0].strip(), "user id", file, lineNumber, line);
            String movie = integer(f[1].strip(), "movie id", file, lineNumber, line);
            try {
                Double.parseDouble(f[2].strip());
            } catch (NumberFormatException e) {
                throw new MalformedInputException(file, lineNumber, "rating '" + f[2] + "' is not a number", line);
            }
            long ts;
            try {
                ts = Long.parseLong(f[3].strip());
            } catch (NumberFormatException e) {
                throw new MalformedInputException(file, lineNumber, "timestamp '" + f[3] + "' is not an integer", line);
            }
            return RowFactory.create(user, movie, ts);
        }
    }

    private record MovieParser(MovieLensLayout layout) implements LineParser {
        @Override
        public boolean isHeader(String firstLine) {
            return layout == MovieLensLayout.CSV && firstLine.startsWith("movieId");
        }

        @Override
        public Row parse(String line, String file, long lineNumber) {
            String[] f;
            if (layout == MovieLensLayout.ML_100K) {
                f = line.split("\\|", -1);
            } else {
                CsvParserSettings settings = new CsvParserSettings();
                settings.setMaxCharsPerColumn(-1);
                f = new CsvParser(settings).parseLine(line);
            }
            if (f == null || f.length < 2) {
                throw new MalformedInputException(file, lineNumber, "expected a movie id and a title separated by "
                        + (layout == MovieLensLayout.ML_100K ? "'|'" : "','"), line);
            }
            String movie = integer(f[0] == null ? "" : f[0].strip(), "movie id", file, lineNumber, line);
            String title = f[1] == null ? "" : f[1];
            if (title.isBlank()) {
                throw new MalformedInputException(file, lineNumber, "empty title", line);
            }
            if (title.indexOf('\uFFFD') >= 0) {
                throw new MalformedInputException(file, lineNumber, "title is not valid text in the expected encoding", line);
            }
            return RowFactory.create(movie, title);
        }
    }

    private static String integer(String value, String what, String file, long lineNumber, String line) {
        try {
            Long.parseLong(value);
            return value;
        } catch (NumberFormatException e) {
            throw new MalformedInputException(file, lineNumber, what + " '" + value + "' is not an integer", line);
        }
    }
}
