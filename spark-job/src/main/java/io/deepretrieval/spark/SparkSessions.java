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
        if (System.getProperty("spark.master") == null) {
            builder.master(master);
        }
        return builder.getOrCreate();
    }
}
