package io.deepretrieval.spark.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.deepretrieval.model.train.Checkpoint;
import io.deepretrieval.spark.SyntheticMovieLens;
import io.deepretrieval.spark.TestFileSystem;
import io.deepretrieval.spark.TestSpark;
import io.deepretrieval.spark.ml.TwoTowerRetrievalModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The main job end to end through the CLI, on synthetic MovieLens data in Spark local mode. */
class SweepCommandTest {
    @TempDir
    static Path shared;
    static Path data;
    /** 600 movies in six planted groups: chance top-10 is 10/600 ≈ 0.017, a model that finds the groups ≈ 0.1. */
    static Path wide;
    static final int WIDE_MOVIES = 600;

    @BeforeAll
    static void writeData() throws IOException {
        data = SyntheticMovieLens.write100k(shared.resolve("ml"), 60, 120, 3000, 4);
        wide = SyntheticMovieLens.write100k(shared.resolve("wide"), 120, WIDE_MOVIES, 6000, 4);
    }

    private static CliRun.Result run(String... args) {
        return CliRun.run(args);
    }

    /** The one checkpoint of a depth's run in a sweep's folder ({@code checkpoints/<label>/}, named by its settings). */
    static Path checkpointOf(Path runDir, String label) throws IOException {
        try (var files = Files.list(runDir.resolve("checkpoints").resolve(label))) {
            List<Path> found = files.filter(f -> f.toString().endsWith(".ckpt")).toList();
            assertEquals(1, found.size(), "checkpoints of " + label + ": " + found);
            return found.get(0);
        }
    }

    @Test
    void sweepWritesCurvesSummaryAndPlotPerDepth(@TempDir Path out) throws IOException {
        CliRun.Result r = run("sweep", "--data", wide.toString(), "--out", out.toString(), "--name", "run1",
                "--epochs", "6", "--layers", "32", "--layers", "16,8", "--batch-size", "256");
        assertEquals(0, r.exitCode(), r.err());
        Path dir = out.resolve("run1");
        assertFalse(Files.exists(out.resolve("run1.incomplete")));
        for (String f : List.of("curve_32.csv", "curve_32.json", "curve_16_8.csv", "curve_16_8.json",
                "summary.csv", "summary.json", "summary.md", "top100.png", "feature-spec.json", "config.json",
                "baseline.json", "report.html", "input-report.json", "models/16_8/data/model.json")) {
            assertTrue(Files.size(dir.resolve(f)) > 0, f);
        }
        assertTrue(Files.size(checkpointOf(dir, "32")) > 0, "the checkpoint of [32]");
        assertFalse(r.err().contains("Validation ranking"), "the sweep reports the top-K curve, no per-user ranking");
        // The saved model is the Estimator's: Spark ML loads it.
        TestSpark.session();
        TwoTowerRetrievalModel saved = TwoTowerRetrievalModel.load(dir.resolve("models/16_8").toString());
        assertEquals(8, saved.rank(), "the [16, 8] towers' embedding width");
        long candidates = saved.itemEmbeddings().count();
        assertTrue(candidates > WIDE_MOVIES / 2 && candidates <= WIDE_MOVIES, candidates + " candidates");
        List<String> csv = Files.readAllLines(dir.resolve("curve_32.csv"));
        assertEquals("epoch,mean_loss,top1,top5,top10,top50,top100,train_seconds", csv.get(0));
        assertEquals(List.of("5", "6"), csv.stream().skip(1).map(l -> l.split(",")[0]).toList(), "evaluated every 5 epochs and after the last");
        JsonNode curve = new ObjectMapper().readTree(dir.resolve("curve_16_8.json").toFile());
        assertEquals("[16, 8]", curve.get("layerSizes").asText());
        double chance = 10.0 / WIDE_MOVIES;
        for (String depth : List.of("32", "16_8")) {
            JsonNode points = new ObjectMapper().readTree(dir.resolve("curve_" + depth + ".json").toFile()).get("points");
            double top10 = points.get(points.size() - 1).get("accuracy").get("top10").asDouble();
            assertTrue(top10 > 3 * chance, "[" + depth + "] top-10 " + top10 + " should beat chance " + chance
                    + " by 3x: the towers must find the planted groups");
        }
        JsonNode summary = new ObjectMapper().readTree(dir.resolve("summary.json").toFile());
        assertEquals(2, summary.size());
        assertEquals("completed", summary.get(0).get("status").asText());
        byte[] png = Files.readAllBytes(dir.resolve("top100.png"));
        assertArrayEquals(new byte[]{(byte) 0x89, 'P', 'N', 'G'}, java.util.Arrays.copyOf(png, 4));
        assertTrue(r.err().contains("epoch 6/6"), "progress lines expected:\n" + r.err());
        JsonNode baseline = new ObjectMapper().readTree(dir.resolve("baseline.json").toFile());
        double alsTop10 = baseline.get("testAccuracy").get("top10").asDouble();
        assertTrue(alsTop10 > 3 * chance, "ALS should find the planted groups too (chance " + chance + "): " + baseline);
        assertTrue(Files.readString(dir.resolve("summary.md")).contains("| ALS implicit (rank "), "baseline row");
    }

    @Test
    void missingDataFolderFailsClearlyAndLeavesNoCompleteLookingFolder(@TempDir Path out) throws IOException {
        CliRun.Result r = run("sweep", "--data", out.resolve("no-such-folder").toString(), "--out", out.toString(),
                "--name", "bad", "--epochs", "1");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("error: data folder") && r.err().contains("does not exist"), r.err());
        assertFalse(Files.exists(out.resolve("bad")));
        assertNoCompleteResults(out);
    }

    @Test
    void dataFolderAtAHadoopUriIsReadThroughItsFileSystemAndRecordedAsGiven(@TempDir Path out) throws IOException {
        TestFileSystem.register(TestSpark.session()); // the sweep's session is this one (getOrCreate)
        String uri = TestFileSystem.uri(data);
        CliRun.Result r = run("sweep", "--no-baseline", "--data", uri, "--out", out.toString(), "--name", "uri",
                "--epochs", "1", "--layers", "8", "--batch-size", "256");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(uri, new ObjectMapper().readTree(out.resolve("uri/config.json").toFile()).get("data").asText());
        assertTrue(r.err().contains("Preparing MovieLens from " + uri), r.err());

        TestFileSystem.register(TestSpark.session());
        CliRun.Result missing = run("sweep", "--no-baseline", "--data", TestFileSystem.uri(out.resolve("none")),
                "--out", out.toString(), "--name", "missing", "--epochs", "1");
        assertEquals(2, missing.exitCode(), missing.err());
        assertTrue(missing.err().contains("error: data folder testfs:" + out.resolve("none") + " does not exist"), missing.err());
    }

    @Test
    void malformedRatingLineIsReportedWithFileAndLine(@TempDir Path tmp) throws IOException {
        Path bad = SyntheticMovieLens.write100k(tmp.resolve("ml"), 20, 30, 100, 1);
        List<String> lines = Files.readAllLines(bad.resolve("u.data"));
        lines.set(41, "7\t3\t5");
        Files.write(bad.resolve("u.data"), lines);
        CliRun.Result r = run("sweep", "--no-baseline", "--data", bad.toString(), "--out", tmp.resolve("out").toString(), "--epochs", "1");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("u.data:42: expected 4 fields"), r.err());
        assertNoCompleteResults(tmp.resolve("out"));
        try (Stream<Path> dirs = Files.list(tmp.resolve("out"))) {
            Path failed = dirs.findFirst().orElseThrow().resolve("FAILED.txt");
            String text = Files.readString(failed);
            assertTrue(text.startsWith("u.data:42: expected 4 fields") || text.contains("u.data:42: expected 4 fields"), text);
            assertTrue(text.contains("\tat io.deepretrieval.spark."), "FAILED.txt keeps the stack trace:\n" + text);
        }
    }

    @Test
    void unknownLayerSizeAndNonPositiveBatchAreRejectedBeforeAnyWork(@TempDir Path out) throws IOException {
        CliRun.Result layers = run("sweep", "--data", data.toString(), "--out", out.toString(), "--layers", "64,thirty-two");
        assertEquals(2, layers.exitCode());
        assertTrue(layers.err().contains("'thirty-two' is not a layer size"), layers.err());
        CliRun.Result zero = run("sweep", "--data", data.toString(), "--out", out.toString(), "--layers", "0");
        assertEquals(2, zero.exitCode());
        assertTrue(zero.err().contains("layer size 0"), zero.err());
        CliRun.Result batch = run("sweep", "--data", data.toString(), "--out", out.toString(), "--batch-size", "0");
        assertEquals(2, batch.exitCode());
        assertTrue(batch.err().contains("batchSize: must be >= 1, got 0"), batch.err());
        try (Stream<Path> written = Files.list(out)) {
            assertEquals(0, written.count(), "nothing may be written for an invalid configuration");
        }
    }

    @Test
    void nanLossAfterAnEvaluationStopsTheDepthKeepsThatCheckpointAndTheSweepGoesOn(@TempDir Path out) throws IOException {
        Path conf = out.resolve("nan.json");
        // Epochs 1-2 train normally and are evaluated (and checkpointed); from epoch 3 on a rate of 1e30 blows the
        // parameters up within a step or two, so the fault comes at a known epoch, after two evaluations.
        Files.writeString(conf, "{\"evalEvery\": 1, \"learningRateSchedule\": {\"3\": 1e30}}");
        CliRun.Result r = run("sweep", "--no-baseline", "--config", conf.toString(), "--data", data.toString(), "--out", out.toString(),
                "--name", "nan", "--epochs", "4", "--layers", "16", "--layers", "8", "--batch-size", "256");
        assertEquals(3, r.exitCode(), r.err());
        assertTrue(r.err().matches("(?s).*\\[16] stopped: epoch 3, step \\d+: loss is (NaN|Infinity).*"), r.err());
        assertTrue(r.err().contains("Training [8]"), "the next depth must still run:\n" + r.err());
        Path dir = out.resolve("nan");
        JsonNode summary = new ObjectMapper().readTree(dir.resolve("summary.json").toFile());
        assertEquals("failed", summary.get(0).get("status").asText());
        assertTrue(summary.get(0).get("failure").asText().contains("loss is"), summary.toString());
        assertEquals("failed", summary.get(1).get("status").asText());
        assertTrue(Files.readString(dir.resolve("summary.md")).contains("0 of 2 depth settings completed."));
        JsonNode curve = new ObjectMapper().readTree(dir.resolve("curve_16.json").toFile());
        assertFalse(curve.get("completed").asBoolean());
        assertEquals(2, curve.get("points").size(), "epochs 1 and 2 were evaluated before the fault: " + curve);

        // The kept checkpoint is the state after epoch 2, bit for bit that of a run which stops there.
        Checkpoint kept = Checkpoint.read(checkpointOf(dir, "16"));
        assertEquals(2, kept.epoch());
        assertEquals(2, kept.curve().size());
        assertTrue(kept.state().isFinite());
        CliRun.Result ref = run("sweep", "--no-baseline", "--data", data.toString(), "--out", out.toString(), "--name", "ref",
                "--epochs", "2", "--layers", "16", "--batch-size", "256");
        assertEquals(0, ref.exitCode(), ref.err());
        Checkpoint clean = Checkpoint.read(checkpointOf(out.resolve("ref"), "16"));
        assertEquals(2, clean.epoch());
        assertArrayEquals(clean.state().values(), kept.state().values(), "parameters after epoch 2");
        assertArrayEquals(clean.state().accumulators(), kept.state().accumulators(), "Adagrad accumulators after epoch 2");
        assertEquals(clean.curve().get(clean.curve().size() - 1).accuracy().at(100), kept.curve().get(1).accuracy().at(100),
                "top-100 after epoch 2");
    }

    @Test
    void aReplicasNanLossUnderParameterAveragingIsReportedAsANumericFault(@TempDir Path out) throws IOException {
        Path conf = out.resolve("nan.json");
        Files.writeString(conf, "{\"evalEvery\": 1, \"learningRateSchedule\": {\"2\": 1e30}}");
        CliRun.Result r = run("sweep", "--no-baseline", "--config", conf.toString(), "--data", data.toString(), "--out", out.toString(),
                "--name", "nan2", "--epochs", "3", "--layers", "8", "--workers", "2", "--batch-size-per-worker", "256");
        // The fault happens inside a Spark task and reaches the driver as the cause of Spark's job failure.
        assertEquals(3, r.exitCode(), r.err());
        assertTrue(r.err().matches("(?s).*\\[8] stopped: epoch 2, (round 1, partition \\d, step \\d+: loss is (NaN|Infinity)"
                + "|averaging round 1: parameters became NaN or infinite).*"), r.err());
        Checkpoint kept = Checkpoint.read(checkpointOf(out.resolve("nan2"), "8"));
        assertEquals(1, kept.epoch());
        assertTrue(kept.state().isFinite());
    }

    @Test
    void severalSeedsReportMeanAndSpreadPerDepth(@TempDir Path out) throws IOException {
        CliRun.Result r = run("sweep", "--no-baseline", "--data", data.toString(), "--out", out.toString(), "--name", "seeds",
                "--epochs", "3", "--layers", "16", "--seeds", "3", "--batch-size", "256");
        assertEquals(0, r.exitCode(), r.err());
        Path dir = out.resolve("seeds");
        for (long seed : new long[]{42, 43, 44}) {
            assertTrue(Files.exists(dir.resolve("curve_16_seed" + seed + ".csv")), "seed " + seed);
            assertTrue(Files.exists(dir.resolve("models/16_seed" + seed + "/data/model.json")), "model of seed " + seed);
        }
        JsonNode spread = new ObjectMapper().readTree(dir.resolve("seeds.json").toFile());
        assertEquals(1, spread.size());
        assertEquals(3, spread.get(0).get("runs").asInt());
        double[] finals = new double[3];
        java.util.Set<String> top10 = new java.util.HashSet<>();
        for (int i = 0; i < 3; i++) {
            List<String> csv = Files.readAllLines(dir.resolve("curve_16_seed" + (42 + i) + ".csv"));
            String[] last = csv.get(csv.size() - 1).split(",");
            finals[i] = Double.parseDouble(last[6]);
            top10.add(last[4]);
        }
        double mean = (finals[0] + finals[1] + finals[2]) / 3;
        double sd = Math.sqrt(((finals[0] - mean) * (finals[0] - mean) + (finals[1] - mean) * (finals[1] - mean)
                + (finals[2] - mean) * (finals[2] - mean)) / 2);
        assertEquals(mean, spread.get(0).get("top100Mean").asDouble(), 1e-4);
        assertEquals(sd, spread.get(0).get("top100Sd").asDouble(), 1e-4);
        assertTrue(top10.size() > 1, "different seeds should not give identical runs: top-10 " + top10);
        assertTrue(Files.readString(dir.resolve("summary.md")).contains("over seeds (mean ± sd)"));
    }

    private static void assertNoCompleteResults(Path out) throws IOException {
        if (!Files.exists(out)) {
            return;
        }
        try (Stream<Path> dirs = Files.list(out)) {
            dirs.forEach(d -> assertTrue(d.getFileName().toString().endsWith(".incomplete"), "complete-looking " + d));
        }
    }
}
