package io.deepretrieval.spark.preprocess;

import org.apache.spark.sql.Row;

/** Raw feature values out of Spark rows, as the model's encoders take them (arrays as {@code java.util.List}). */
public final class RowValues {
    private RowValues() {
    }

    /** The value at {@code i}: null, a Java list for an array column, else Spark's own object. */
    public static Object get(Row row, int i) {
        if (row.isNullAt(i)) {
            return null;
        }
        Object v = row.get(i);
        return v instanceof scala.collection.Seq<?> ? row.getList(i) : v;
    }
}
