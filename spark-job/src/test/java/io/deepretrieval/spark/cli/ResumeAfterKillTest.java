package io.deepretrieval.spark.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.deepretrieval.spark.CliProcess;
import io.deepretrieval.spark.SyntheticMovieLens;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import io.deepretrieval.model.train.Checkpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The driver JVM of a 2-worker parameter-averaging sweep is killed (SIGKILL) in the middle of the second depth;
 * {@code --resume} finishes the sweep from the averaged state's checkpoint and ends with the same parameters as an
 * uninterrupted run.
 */
class ResumeAfterKillTest {
    /** Two replicas in local mode, three averaging rounds per epoch (2 × 2,400 training rows, 4 steps of 128 a round). */
    private static final String[] AVERAGING = {"--master", "local[2]", "--workers", "2", "--batch-size-per-worker", "128",
            "--averaging-frequency", "4"};

    @Test
    @Timeout(value = 8, unit = TimeUnit.MINUTES)
    void resumeSkipsFinishedDepthsAndContinuesFromTheCheckpoint(@TempDir Path tmp) throws Exception {
        Path data = SyntheticMovieLens.write100k(tmp.resolve("ml"), 60, 120, 6000, 8);
        Path out = tmp.resolve("out");
        Path log = tmp.resolve("first.log");
        Process first = cli(log, args("sweep", "--no-baseline", "--data", data.toString(), "--out", out.toString(),
                "--name", "run", "--epochs", "20", "--layers", "16", "--layers", "32,16"));
        // Checkpoints come every 5 epochs: wait for the second depth's first one, then kill mid-depth.
        Path checkpoints = out.resolve("run.incomplete/checkpoints/32_16");
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
        while (!hasCheckpoint(checkpoints) && first.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertTrue(hasCheckpoint(checkpoints), "no checkpoint of the second depth:\n" + Files.readString(log));
        assertTrue(first.destroyForcibly().waitFor(30, TimeUnit.SECONDS), "the first run survived SIGKILL"); // SIGKILL
        assertFalse(Files.exists(out.resolve("run")), "a killed run must not look complete");
        assertTrue(Files.exists(out.resolve("run.incomplete/curve_16.json")), "the first depth was complete");
        assertFalse(Files.exists(out.resolve("run.incomplete/curve_32_16.json")));

        Path resumedLog = tmp.resolve("resumed.log");
        Process resumed = cli(resumedLog, "sweep", "--resume", out.resolve("run.incomplete").toString());
        assertTrue(resumed.waitFor(4, TimeUnit.MINUTES), () -> "the resumed run did not finish in 4 minutes:\n"
                + CliProcess.read(resumedLog));
        String text = Files.readString(resumedLog);
        assertEquals(0, resumed.exitValue(), text);
        assertTrue(text.contains("[16] already done in an earlier attempt: not retrained"), text);
        assertFalse(text.contains("[16] epoch 1/20"), "the first depth was retrained:\n" + text);
        assertTrue(text.matches("(?s).*Resuming \\[32, 16] from its checkpoint after epoch (5|10|15).*"), text);
        assertFalse(text.contains("[32, 16] epoch 1/20 "), "the second depth restarted from scratch:\n" + text);

        Path dir = out.resolve("run");
        assertFalse(Files.exists(out.resolve("run.incomplete")));
        for (String label : List.of("16", "32_16")) {
            List<String> csv = Files.readAllLines(dir.resolve("curve_" + label + ".csv"));
            assertEquals(4, csv.size() - 1, label + ": a point every 5 of 20 epochs\n" + csv);
            JsonNode curve = new ObjectMapper().readTree(dir.resolve("curve_" + label + ".json").toFile());
            assertTrue(curve.get("completed").asBoolean());
        }
        JsonNode summary = new ObjectMapper().readTree(dir.resolve("summary.json").toFile());
        assertEquals(2, summary.size());
        assertTrue(Files.size(dir.resolve("top100.png")) > 0);
        assertTrue(text.contains("Parameter averaging: 2 workers"), text);

        // The same depth trained without interruption (each depth's initialisation depends only on the seed).
        Path whole = tmp.resolve("whole");
        Path wholeLog = tmp.resolve("whole.log");
        Process uninterrupted = cli(wholeLog, args("sweep", "--no-baseline", "--data", data.toString(), "--out",
                whole.toString(), "--name", "run", "--epochs", "20", "--layers", "32,16"));
        assertTrue(uninterrupted.waitFor(4, TimeUnit.MINUTES), () -> CliProcess.read(wholeLog));
        assertEquals(0, uninterrupted.exitValue(), () -> CliProcess.read(wholeLog));
        Checkpoint resumedEnd = Checkpoint.read(SweepCommandTest.checkpointOf(dir, "32_16"));
        Checkpoint wholeEnd = Checkpoint.read(SweepCommandTest.checkpointOf(whole.resolve("run"), "32_16"));
        assertEquals(20, resumedEnd.epoch());
        assertEquals(20, wholeEnd.epoch());
        assertArrayEquals(wholeEnd.state().values(), resumedEnd.state().values(), "parameters after 20 epochs");
        assertArrayEquals(wholeEnd.state().accumulators(), resumedEnd.state().accumulators(), "Adagrad accumulators");
        assertEquals(lossAndAccuracy(wholeEnd), lossAndAccuracy(resumedEnd), "the curves of both runs");
    }

    private static boolean hasCheckpoint(Path folder) throws IOException {
        if (!Files.isDirectory(folder)) {
            return false;
        }
        try (var files = Files.list(folder)) {
            return files.anyMatch(f -> f.toString().endsWith(".ckpt"));
        }
    }

    /** A curve without its training times, which differ between runs. */
    private static List<String> lossAndAccuracy(Checkpoint ck) {
        return ck.curve().stream().map(p -> p.epoch() + " " + p.meanLoss() + " " + Arrays.toString(p.accuracy().accuracy())).toList();
    }

    private static String[] args(String... args) {
        String[] all = Arrays.copyOf(args, args.length + AVERAGING.length);
        System.arraycopy(AVERAGING, 0, all, args.length, AVERAGING.length);
        return all;
    }

    private static Process cli(Path log, String... args) throws Exception {
        return CliProcess.start(log, args);
    }
}
