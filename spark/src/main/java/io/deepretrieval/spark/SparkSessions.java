package io.deepretrieval.spark;

import org.apache.spark.sql.SparkSession;

/** Builds the Spark session the job runs in, with settings that suit a small-data ML driver. */
public final class SparkSessions {
    private SparkSessions() {
    }

    /**
     * A session for {@code master} (e.g. {@code local[*]}, {@code spark://host:7077}); under spark-submit the
     * master comes from the submit command and {@code master} is ignored.
     */
    public static SparkSession create(String master, String appName) {
        SparkSession.Builder builder = SparkSession.builder().appName(appName)
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.sql.shuffle.partitions", "8");
        if (System.getProperty("spark.task.maxDirectResultSize") == null) {
            // Parameter averaging returns each replica's state (1.7 MB for ML-100k) as a task result; above this
            // size (Spark's default 1 MiB) results take a detour through the block manager on every round.
            builder.config("spark.task.maxDirectResultSize", "64m");
        }
        if (System.getProperty("spark.master") == null) {
            builder.master(master);
        }
        return builder.getOrCreate();
    }
}
