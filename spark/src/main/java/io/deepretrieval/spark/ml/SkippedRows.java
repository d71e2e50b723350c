package io.deepretrieval.spark.ml;

import java.io.Serializable;
import java.util.List;

/**
 * What {@code handleInvalid skip} left out of a fit: of how many input rows, how many, and why (one entry per
 * column, e.g. {@code 3 rows have a null in userCol 'customer'}). Saved with the model, so that a model trained on
 * cleaned data says so.
 *
 * @param rows    the input rows
 * @param skipped the rows left out (a row invalid in two columns counts once)
 * @param reasons the count per column, as the fit's log gives it
 */
public record SkippedRows(long rows, long skipped, List<String> reasons) implements Serializable {
    /** Nothing skipped. */
    public static SkippedRows none(long rows) {
        return new SkippedRows(rows, 0, List.of());
    }

    public SkippedRows {
        reasons = List.copyOf(reasons);
    }
}
