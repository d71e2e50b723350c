package io.deepretrieval.spark.cli;

import io.deepretrieval.spark.ingest.MalformedInputException;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.util.List;

/** A table at any Hadoop URI through Spark's own readers. */
final class Tables {
    /** The formats {@link #read} takes. */
    static final List<String> FORMATS = List.of("parquet", "csv", "json");

    private Tables() {
    }

    /** Fails unless {@code format} is one of {@link #FORMATS}: checked before Spark starts. */
    static void checkFormat(String format) {
        if (!FORMATS.contains(format)) {
            throw new IllegalArgumentException("--format: '" + format + "' is not one of parquet, csv, json");
        }
    }

    /** The table at {@code uri}, which the option {@code option} named; a missing path is an error naming both. */
    static Dataset<Row> read(SparkSession spark, String option, String uri, String format) {
        checkFormat(format);
        try {
            return switch (format) {
                case "parquet" -> spark.read().parquet(uri);
                // failFast: a malformed line stops the job with Spark's message naming the record.
                case "csv" -> spark.read().option("header", "true").option("inferSchema", "true").option("mode", "FAILFAST").csv(uri);
                default -> spark.read().option("mode", "FAILFAST").json(uri);
            };
        } catch (Exception e) {
            // Spark's AnalysisException is checked in Java's eyes though Scala declares nothing, hence the test here.
            if (e instanceof AnalysisException a && "PATH_NOT_FOUND".equals(a.getErrorClass())) {
                throw new MalformedInputException(option + " " + uri + ": no such file or folder");
            }
            throw e;
        }
    }
}
