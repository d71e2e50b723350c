package io.deepretrieval.spark.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.deepretrieval.spark.bench.SyntheticRatings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code bench-histories} reports every row and every user of a synthetic folder, counted here from its CSV. */
class BenchHistoriesCommandTest {
    @Test
    void reportsTheRowsAndUsersOfTheFolderAndItsTimings(@TempDir Path tmp) throws Exception {
        Path data = SyntheticRatings.write(tmp.resolve("syn"), 20_000, 7);
        long users;
        try (var lines = Files.lines(data.resolve("ratings.csv"))) {
            users = lines.skip(1).map(l -> l.substring(0, l.indexOf(','))).distinct().count();
        }
        PrintStream out = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        CliRun.Result r;
        try {
            r = CliRun.run("bench-histories", "--data", data.toString(), "--history", "20", "--master", "local[2]");
        } finally {
            System.setOut(out);
        }
        assertEquals(0, r.exitCode(), r.err());
        Map<String, Double> figures = new HashMap<>();
        ObjectMapper json = new ObjectMapper();
        for (String line : captured.toString(StandardCharsets.UTF_8).split("\n")) {
            if (line.startsWith("{")) {
                JsonNode n = json.readTree(line);
                figures.put(n.get("metric").asText(), n.get("value").asDouble());
            }
        }
        assertEquals(20_000, figures.get("rows"), 0.0, figures.toString());
        assertEquals(users, figures.get("users"), 0.0, figures.toString());
        assertTrue(figures.get("histories_seconds") > 0 && figures.get("peak_rss_mb_driver_and_local_executors") > 0,
                figures.toString());
    }
}
