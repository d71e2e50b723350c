package io.deepretrieval.spark.ingest;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

import java.util.List;

/**
 * Ratings and movies read from one MovieLens folder, the lines dropped on the way (dropMalformed), and the lines
 * accepted with a note (repeats; under either policy).
 */
public record MovieLensData(Dataset<Row> ratings, Dataset<Row> movies, MovieLensLayout layout,
                            List<DroppedLines> dropped, List<InputNote> notes) {
}
