package io.deepretrieval.spark.ingest;

import java.io.Serializable;

/**
 * Lines of a file that were accepted but deserve a word in the input report: how many, and what was done with
 * them (e.g. ratings repeating an earlier line's user, movie and timestamp, kept). Under either input policy.
 */
public record InputNote(String file, long count, String note) implements Serializable {
    /** One line for logs and summaries, e.g. {@code ".../u.data: 3 lines repeat ...; kept as separate ratings"}. */
    @Override
    public String toString() {
        return file + ": " + count + (count == 1 ? " line " : " lines ") + note;
    }
}
