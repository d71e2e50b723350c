package io.deepretrieval.spark.preprocess;

/**
 * The key columns every interaction carries inside the pipeline, whatever the input called them: the Estimator
 * maps its {@code userCol}, {@code itemCol} and {@code timestampCol} onto these before preprocessing, splitting
 * and encoding.
 */
public final class KeyColumns {
    /** The user id, as a string. */
    public static final String USER = "user_id";
    /** The item id, as a string. */
    public static final String ITEM = "item_id";
    /** The time in seconds, as a long. */
    public static final String TIME = "timestamp";

    private KeyColumns() {
    }
}
