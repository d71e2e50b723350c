package io.deepretrieval.spark.ingest;

import java.io.Serializable;
import java.util.List;

/** Lines skipped under {@link InputPolicy#DROP_MALFORMED}: where, how many, and the first few with their problem. */
public record DroppedLines(String file, long count, List<String> examples) implements Serializable {
}
