package io.deepretrieval.spark.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code bin/bench-cluster-memory} as docs/guide.md shows it, on a tiny synthetic set: a standalone master and two
 * workers, the sweep and bench-histories submitted to them, one JSON line each with the driver's and both
 * executors' peak memory; and a job it does not know is an error naming it.
 */
class BenchClusterMemoryIT {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @Test
    void bothJobsReportTheDriverAndEachExecutor(@TempDir Path tmp) throws Exception {
        Path stdout = tmp.resolve("out.jsonl");
        Process p = new ProcessBuilder("bash", ROOT.resolve("bin/bench-cluster-memory").toString(), "5000", "1", "16",
                "sweep histories").redirectError(ProcessBuilder.Redirect.INHERIT).redirectOutput(stdout.toFile()).start();
        if (!p.waitFor(8, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("bin/bench-cluster-memory did not finish in 8 minutes");
        }
        String out = Files.readString(stdout, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        List<JsonNode> lines = new ArrayList<>();
        for (String line : out.strip().split("\n")) {
            lines.add(new ObjectMapper().readTree(line));
        }
        assertEquals(List.of("sweep", "histories"), lines.stream().map(l -> l.get("job").asText()).toList(), out);
        for (JsonNode l : lines) {
            // A JVM with Spark loaded holds well over 100 MB; two executors, each its own process.
            assertTrue(l.get("driver_peak_rss_mb").asInt() > 100, l.toString());
            assertEquals(2, l.get("executor_peak_rss_mb").size(), l.toString());
            l.get("executor_peak_rss_mb").forEach(e -> assertTrue(e.asInt() > 100, l.toString()));
        }
        assertTrue(lines.get(0).get("top100").asDouble() > 0, lines.get(0).toString());
        assertTrue(lines.get(1).get("histories_seconds").asDouble() > 0, lines.get(1).toString());

        Process bad = new ProcessBuilder("bash", ROOT.resolve("bin/bench-cluster-memory").toString(), "5000", "1", "16",
                "train").redirectErrorStream(true).start();
        String err = new String(bad.getInputStream().readAllBytes(), StandardCharsets.UTF_8); // it exits at once
        assertTrue(bad.waitFor(1, TimeUnit.MINUTES));
        assertEquals(2, bad.exitValue());
        assertTrue(err.contains("JOBS are sweep and/or histories, got 'train'"), err);
    }
}
