package io.deepretrieval.spark.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.deepretrieval.spark.SyntheticMovieLens;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static io.deepretrieval.spark.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code experiment} command end to end on a small planted MovieLens folder: the random and temporal splits (the
 * temporal one with the next-item protocol), leave-last-one, towers and baselines, resume.
 */
class ExperimentCommandTest {
    private static final int MOVIES = 320;

    @Test
    void runsTowersAndAlsOnBothSplitsWritesTheReportAndResumes(@TempDir Path dir) throws IOException {
        Path data = SyntheticMovieLens.write100k(dir.resolve("ml"), 80, MOVIES, 4000, 3);
        String[] args = {"experiment", "--data", data.toString(), "--out", dir.resolve("exp").toString(), "--seeds", "1",
                "--variant", "logq", "--variant", "tutorial", "--epochs", "6", "--eval-every", "1", "--patience", "1",
                "--als-ranks", "16", "--als-regs", "0.1", "--als-alphas", "1,10", "--als-iters", "10",
                "--master", "local[2]"}; // ALS tuned over alpha only: 2 fits a split
        CliRun.Result first = run(args);
        assertEquals(0, first.exitCode(), first.err());
        JsonNode runs = new ObjectMapper().readTree(dir.resolve("exp/results.json").toFile());
        assertEquals(10, runs.size(), runs.toString());
        Map<String, JsonNode> random = new HashMap<>();
        Map<String, JsonNode> temporal = new HashMap<>();
        for (JsonNode r : runs) {
            (r.get("split").asText().equals("random") ? random : temporal).put(r.get("model").asText(), r);
            assertTrue(r.get("testUsers").asLong() > 0, r.toString());
        }
        // Next-item figures: the temporal split's baselines and towers answer every test row, the same queries.
        for (String model : new String[]{"als", "popularity", "item2item"}) {
            assertTrue(temporal.get(model).get("nextQueries").asLong() > 0, temporal.get(model).toString());
            assertEquals(0, random.get(model).get("nextQueries").asLong(), random.get(model).toString());
            assertTrue(temporal.get(model).get("stoppingNdcg10").asDouble() > 0, temporal.get(model).toString());
        }
        assertEquals(temporal.get("als").get("nextQueries").asLong(), temporal.get("logq").get("nextQueries").asLong(),
                temporal.get("logq").toString());
        assertEquals(0, random.get("logq").get("nextQueries").asLong());
        assertTrue(random.get("als").get("detail").asText().contains("10 iterations"), random.get("als").toString());
        // Users of a group rate its 40 movies: a model that finds the groups beats chance (10 / 320) by far.
        double chance = 10.0 / MOVIES;
        for (String model : new String[]{"als", "logq"}) {
            double top10 = random.get(model).get("top10").asDouble();
            assertTrue(top10 > 3 * chance, model + " top-10 " + top10 + ", chance " + chance);
        }
        // Item-to-item finds the groups too: per user, its recall@10 is far above the most popular's.
        assertTrue(random.get("item2item").get("recall10").asDouble() > random.get("popularity").get("recall10").asDouble()
                + 0.05, random.toString());
        // Groups are equally popular, so the most-popular ranking knows nothing of a user's group.
        assertTrue(random.get("logq").get("top10").asDouble() > random.get("popularity").get("top10").asDouble() + 0.1,
                random.toString());
        int stoppedAt = random.get("logq").get("epochs").asInt();
        assertTrue(stoppedAt >= 1 && stoppedAt <= 6, "early stopping chose " + stoppedAt);
        assertEquals(6, random.get("tutorial").get("epochs").asInt(), "the tutorial runs its fixed length");
        String summary = Files.readString(dir.resolve("exp/summary.md"));
        assertTrue(summary.contains("### random split") && summary.contains("### temporal split"), summary);
        assertTrue(summary.contains("logq (best top-100 and per user, chosen on the stopping slice)"), summary);
        // The early-stopped tower has a per-user figure of the stopping slice to be chosen by, as the baselines do.
        assertTrue(random.get("logq").get("stoppingNdcg10").asDouble() > 0, random.get("logq").toString());
        assertTrue(random.get("tutorial").get("stoppingNdcg10").isNull()
                || Double.isNaN(random.get("tutorial").get("stoppingNdcg10").asDouble()), "no stopping slice, no figure");
        assertTrue(summary.contains("Best per-user towers (logq) minus ALS: recall@10"), summary);
        assertTrue(summary.contains("Best towers (logq) minus ALS, top-100:"), summary);
        byte[] png = Files.readAllBytes(dir.resolve("exp/top100.png"));
        assertArrayEquals(new byte[]{(byte) 0x89, 'P', 'N', 'G'}, java.util.Arrays.copyOf(png, 4));
        assertTrue(summary.contains("Best towers (logq) minus most popular, top-100:"), summary);
        assertEquals(11, Files.readAllLines(dir.resolve("exp/results.csv")).size(), "a header and ten runs");
        assertTrue(summary.contains("next-item NDCG@10"), summary);

        // Started again on the same folder, nothing is rerun and the results stay as they were.
        String before = Files.readString(dir.resolve("exp/results.json"));
        CliRun.Result again = run(args);
        assertEquals(0, again.exitCode(), again.err());
        assertFalse(again.err().contains("==="), again.err());
        assertEquals(before, Files.readString(dir.resolve("exp/results.json")));

        // Leave-last-one: the towers through the Estimator's lastN split, every baseline on the same rows.
        CliRun.Result last = run("experiment", "--data", data.toString(), "--out", dir.resolve("last").toString(),
                "--seeds", "1", "--split", "last", "--variant", "logq", "--epochs", "2", "--eval-every", "1",
                "--patience", "1", "--als-ranks", "16", "--als-regs", "0.1", "--als-alphas", "10", "--als-iters", "10",
                "--master", "local[2]");
        assertEquals(0, last.exitCode(), last.err());
        JsonNode lastRuns = new ObjectMapper().readTree(dir.resolve("last/results.json").toFile());
        assertEquals(4, lastRuns.size(), lastRuns.toString());
        for (JsonNode r : lastRuns) {
            assertEquals("last", r.get("split").asText());
            // One held-out row per user with more than one row: every one of the 80 users.
            assertEquals(80, r.get("testUsers").asLong(), r.toString());
        }

        CliRun.Result bad = run("experiment", "--data", data.toString(), "--out", dir.resolve("bad").toString(),
                "--variant", "logq+typo");
        assertEquals(2, bad.exitCode());
        assertTrue(bad.err().contains("--variant logq+typo: unknown; known are"), bad.err());
        CliRun.Result badGrid = run("experiment", "--data", data.toString(), "--out", dir.resolve("bad").toString(),
                "--als-ranks", "16,0");
        assertEquals(2, badGrid.exitCode());
        assertTrue(badGrid.err().contains("--als-ranks / --als-regs / --als-alphas / --als-iters: ALS grid ranks [16, 0]"),
                badGrid.err());
    }
}
