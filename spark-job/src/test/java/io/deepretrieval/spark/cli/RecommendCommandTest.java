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
 * Train on data with a planted preference, save, then ask a fresh JVM (only the saved folder) what a user should
 * watch: the planted movies must come first, and the model folder and a PipelineModel folder holding it answer
 * alike.
 */
class RecommendCommandTest {
    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void aSavedModelRanksThePlantedMoviesFirstInAFreshJvmFromItsFolderOrAPipeline(@TempDir Path tmp) throws Exception {
        Path data = SyntheticMovieLens.write100k(tmp.resolve("ml"), 60, 120, 6000, 21);
        Path model = ModelFolders.trained(data, tmp.resolve("model"), 15);
        Path pipeline = ModelFolders.pipelineOf(model, tmp.resolve("pipeline"));

        // User 1 is in group 0 ("space"); users are assigned groups by (id - 1) % 6.
        Result rec = cli(tmp.resolve("rec.log"), "recommend", "--model", model.toString(), "--user", "1", "--k", "10");
        assertEquals(0, rec.code(), rec.output());
        List<String> lines = ranked(rec);
        assertEquals(10, lines.size(), rec.output());
        long planted = lines.stream().filter(l -> l.contains(" space ")).count();
        assertTrue(planted >= 8, "expected the 'space' movies first:\n" + rec.output());
        assertTrue(rec.output().matches("(?s).*query answered in [0-9.]+ ms.*"), rec.output());

        Result viaPipeline = cli(tmp.resolve("pipeline.log"), "recommend", "--model", pipeline.toString(), "--user", "1",
                "--k", "10");
        assertEquals(0, viaPipeline.code(), viaPipeline.output());
        assertEquals(lines, ranked(viaPipeline), "the same model, saved alone or in a pipeline");

        Result seen = cli(tmp.resolve("seen.log"), "recommend", "--model", model.toString(), "--user", "1", "--k", "5",
                "--exclude-seen", "--ratings", data.resolve("u.data").toString());
        assertEquals(0, seen.code(), seen.output());
        List<String> ratedByUser1 = Files.readAllLines(data.resolve("u.data")).stream().map(l -> l.split("\t"))
                .filter(f -> f[0].equals("1")).map(f -> "(movie " + f[1] + ")").toList();
        assertEquals(5, ranked(seen).size(), seen.output());
        for (String line : ranked(seen)) {
            assertTrue(ratedByUser1.stream().noneMatch(line::endsWith), "a seen movie was recommended: " + line);
        }

        Result unknown = cli(tmp.resolve("unknown.log"), "recommend", "--model", model.toString(), "--user", "99999");
        assertEquals(0, unknown.code(), unknown.output());
        assertTrue(unknown.output().contains("warning: user 99999 is not in the model's vocabulary"), unknown.output());
    }

    @Test
    void aFolderWithoutAModelIsExitCode2NamingIt(@TempDir Path tmp) throws Exception {
        Path data = SyntheticMovieLens.write100k(tmp.resolve("ml"), 6, 12, 30, 1);
        CliRun.Result notAModel = CliRun.run("recommend", "--model", data.toString(), "--user", "1");
        assertEquals(2, notAModel.exitCode(), notAModel.err());
        assertTrue(notAModel.err().contains("error: " + data + " is not a saved Spark ML model (it has no metadata/ folder)"),
                notAModel.err());
        CliRun.Result missing = CliRun.run("recommend", "--model", tmp.resolve("none").toString(), "--user", "1");
        assertEquals(2, missing.exitCode(), missing.err());
        assertTrue(missing.err().contains("error: " + tmp.resolve("none") + " does not exist"), missing.err());
    }

    private static List<String> ranked(Result r) {
        return r.output().lines().filter(l -> l.matches("\\s*\\d+\\. .*")).toList();
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
