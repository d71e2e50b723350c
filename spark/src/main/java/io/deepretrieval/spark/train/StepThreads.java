package io.deepretrieval.spark.train;

import io.deepretrieval.model.io.BackendInfo;
import org.apache.spark.sql.SparkSession;

/**
 * How many threads a training step splits its batch over when the setting is 0 (automatic): every core of the
 * driver JVM when it trains alone on CPU, the cores Spark reserves per task ({@code spark.task.cpus}) when executors
 * train, and one on a GPU, which already runs each op across the device (the split is for CPU cores).
 */
public final class StepThreads {
    private StepThreads() {
    }

    /** {@code configured} when positive, else the automatic choice for this session and trainer. */
    public static int resolve(int configured, boolean distributed, SparkSession spark) {
        if (configured < 0) {
            throw new IllegalArgumentException("stepThreads must be >= 0, got " + configured);
        }
        if (configured > 0) {
            return configured;
        }
        if (distributed) {
            return Integer.parseInt(spark.conf().get("spark.task.cpus", "1"));
        }
        return BackendInfo.isGpu() ? 1 : Runtime.getRuntime().availableProcessors();
    }
}
