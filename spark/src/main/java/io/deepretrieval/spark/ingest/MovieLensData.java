package io.deepretrieval.spark.ingest;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/** Ratings and movies read from one MovieLens folder, and the lines dropped on the way (dropMalformed). */
public record MovieLensData(Dataset<Row> ratings, Dataset<Row> movies, MovieLensLayout layout,
                            java.util.List<DroppedLines> dropped) {
}
