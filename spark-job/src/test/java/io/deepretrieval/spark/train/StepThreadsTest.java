package io.deepretrieval.spark.train;

import io.deepretrieval.model.io.BackendInfo;
import io.deepretrieval.spark.TestSpark;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class StepThreadsTest {
    private final SparkSession spark = TestSpark.session();

    @Test
    void aSetCountIsKept() {
        assertEquals(3, StepThreads.resolve(3, false, spark));
        assertEquals(3, StepThreads.resolve(3, true, spark));
    }

    @Test
    void automaticIsEveryCpuCoreInTheDriverAndTheTaskCpusOnExecutors() {
        int driver = BackendInfo.isGpu() ? 1 : Runtime.getRuntime().availableProcessors();
        assertEquals(driver, StepThreads.resolve(0, false, spark));
        assertEquals(Integer.parseInt(spark.conf().get("spark.task.cpus", "1")), StepThreads.resolve(0, true, spark));
    }

    @Test
    void negativeIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> StepThreads.resolve(-1, false, spark));
    }
}
