package io.deepretrieval.spark.cli;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** A table at any Hadoop URI through Spark's own readers. */
final class Tables {
    private Tables() {
    }

    static Dataset<Row> read(SparkSession spark, String uri, String format) {
        return switch (format) {
            case "parquet" -> spark.read().parquet(uri);
            // failFast: a malformed line stops the job with Spark's message naming the record.
            case "csv" -> spark.read().option("header", "true").option("inferSchema", "true").option("mode", "FAILFAST").csv(uri);
            case "json" -> spark.read().option("mode", "FAILFAST").json(uri);
            default -> throw new IllegalArgumentException("--format: '" + format + "' is not one of parquet, csv, json");
        };
    }
}
