package io.deepretrieval.spark.cli;

import io.deepretrieval.spark.CliProcess;
import io.deepretrieval.spark.SyntheticMovieLens;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Train on data with a planted preference, save, then ask a fresh JVM (no Spark session, only the saved folder)
 * what a user should watch: the planted movies must come first.
 */
class RecommendCommandTest {
    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void savedModelRanksThePlantedMoviesFirstInAFreshJvm(@TempDir Path tmp) throws Exception {
        Path data = SyntheticMovieLens.write100k(tmp.resolve("ml"), 60, 120, 6000, 21);
        Result train = cli(tmp.resolve("train.log"), "sweep", "--no-baseline", "--data", data.toString(), "--out", tmp.resolve("out").toString(),
                "--name", "r", "--epochs", "15", "--layers", "32", "--batch-size", "256");
        assertEquals(0, train.code(), train.output());
        Path model = tmp.resolve("out/r/models/32");
        assertTrue(Files.isRegularFile(model.resolve("query_tower.sdz")), train.output());

        // User 1 is in group 0 ("space"); users are assigned groups by (id - 1) % 6.
        Result rec = cli(tmp.resolve("rec.log"), "recommend", "--model", model.toString(), "--user", "1", "--k", "10");
        assertEquals(0, rec.code(), rec.output());
        List<String> lines = rec.output().lines().filter(l -> l.matches("\\s*\\d+\\. .*")).toList();
        assertEquals(10, lines.size(), rec.output());
        long planted = lines.stream().filter(l -> l.contains(" space ")).count();
        assertTrue(planted >= 8, "expected the 'space' movies first:\n" + rec.output());
        assertTrue(rec.output().matches("(?s).*query answered in [0-9.]+ ms.*"), rec.output());

        Result seen = cli(tmp.resolve("seen.log"), "recommend", "--model", model.toString(), "--user", "1", "--k", "5",
                "--exclude-seen", "--ratings", data.resolve("u.data").toString());
        assertEquals(0, seen.code(), seen.output());
        List<String> ratedByUser1 = Files.readAllLines(data.resolve("u.data")).stream().map(l -> l.split("\t"))
                .filter(f -> f[0].equals("1")).map(f -> "(movie " + f[1] + ")").toList();
        for (String line : seen.output().lines().filter(l -> l.matches("\\s*\\d+\\. .*")).toList()) {
            assertTrue(ratedByUser1.stream().noneMatch(line::endsWith), "a seen movie was recommended: " + line);
        }

        Result unknown = cli(tmp.resolve("unknown.log"), "recommend", "--model", model.toString(), "--user", "99999");
        assertEquals(0, unknown.code(), unknown.output());
        assertTrue(unknown.output().contains("warning: user 99999 is not in the model's vocabulary"), unknown.output());
    }

    record Result(int code, String output) {
    }

    private static Result cli(Path log, String... args) throws Exception {
        Process p = CliProcess.start(log, args);
        if (!p.waitFor(4, TimeUnit.MINUTES)) {
            p.destroyForcibly();
        }
        return new Result(p.exitValue(), Files.readString(log));
    }
}
