package io.deepretrieval.spark.train;

import io.deepretrieval.spark.CliProcess;
import io.deepretrieval.spark.SyntheticMovieLens;
import io.deepretrieval.spark.TestSpark;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How many threads training steps really use when stepThreads is automatic, seen from a sweep's own log. */
class StepThreadsTest {
    @TempDir
    static Path dir;
    static Path data;

    @BeforeAll
    static void writeData() throws Exception {
        data = SyntheticMovieLens.write100k(dir.resolve("ml"), 30, 60, 600, 2);
    }

    /** Runs a one-epoch sweep in a child JVM and returns its log. */
    private static String sweep(List<String> jvmOptions, String name, String... extra) throws Exception {
        Path log = dir.resolve(name + ".log");
        List<String> args = new java.util.ArrayList<>(List.of("sweep", "--no-baseline", "--data", data.toString(),
                "--out", dir.resolve("out").toString(), "--name", name, "--epochs", "1", "--layers", "8",
                "--batch-size", "128"));
        args.addAll(List.of(extra));
        Process p = CliProcess.start(jvmOptions, log, args.toArray(String[]::new));
        assertTrue(p.waitFor(3, TimeUnit.MINUTES), () -> "sweep did not finish:\n" + CliProcess.read(log));
        String text = CliProcess.read(log);
        assertEquals(0, p.exitValue(), text);
        return text;
    }

    @Test
    void inTheDriverJvmAutomaticMeansEveryCoreTheJvmSees() throws Exception {
        // The JVM is told it has 3 cores (not this machine's count), so the split follows the JVM, not a constant.
        String log = sweep(List.of("-XX:ActiveProcessorCount=3"), "driver");
        assertTrue(log.contains("batch 128 split over 3 step thread(s)"), log);
    }

    @Test
    void onExecutorsAutomaticMeansTheCoresSparkReservesPerTask() throws Exception {
        String log = sweep(List.of("-Dspark.task.cpus=2"), "executors", "--master", "local[2]", "--workers", "1");
        assertTrue(log.contains("2 step thread(s)"), log);
        assertTrue(log.contains("Building model replica for partition 0"), log);
    }

    @Test
    void negativeIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> StepThreads.resolve(-1, false, TestSpark.session()));
    }
}
