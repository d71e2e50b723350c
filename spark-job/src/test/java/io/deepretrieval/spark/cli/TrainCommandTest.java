package io.deepretrieval.spark.cli;

import io.deepretrieval.spark.SyntheticMovieLens;
import io.deepretrieval.spark.TestFileSystem;
import io.deepretrieval.spark.TestSpark;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code train} on a CSV table with its own column names, then {@code recommend-all} from the saved model. */
class TrainCommandTest {
    private static CliRun.Result run(String... args) {
        return CliRun.run(args);
    }

    private static Path csv(Path dir) throws IOException {
        StringBuilder sb = new StringBuilder("member,sku,when,name\n");
        SplittableRandom rng = new SplittableRandom(2);
        for (int i = 0; i < 1500; i++) {
            int user = rng.nextInt(40);
            int item = rng.nextInt(20) * 6 + user % 6;
            sb.append(user).append(',').append(1000 + item).append(',').append(1_500_000_000L + rng.nextInt(1_000_000))
                    .append(",\"").append(SyntheticMovieLens.title(item + 1).replace("\"", "\"\"")).append("\"\n");
        }
        Path file = dir.resolve("table.csv");
        Files.writeString(file, sb);
        return file;
    }

    @Test
    void trainSavesAModelAndRecommendAllWritesEveryUsersTopK(@TempDir Path dir) throws IOException {
        Path table = csv(dir);
        CliRun.Result train = run("train", "--ratings", table.toString(), "--format", "csv", "--user-col", "member",
                "--item-col", "sku", "--time-col", "when", "--title-col", "name", "--layers", "16", "--epochs", "3",
                "--batch-size", "256", "--out", dir.resolve("model").toString());
        assertEquals(0, train.exitCode(), train.err());
        assertTrue(Files.isDirectory(dir.resolve("model/metadata")), "Spark ML metadata");
        // No validation rows: progress shows epochs, never a curve of zeros over no rows as if it were accuracy.
        assertTrue(train.err().contains("epoch 3/3"), train.err());
        assertFalse(train.err().contains("top100="), train.err());
        CliRun.Result all = run("recommend-all", "--model", dir.resolve("model").toString(), "--k", "5",
                "--out", dir.resolve("recs").toString());
        assertEquals(0, all.exitCode(), all.err());
        var recs = TestSpark.session().read().parquet(dir.resolve("recs").toString());
        // Integer ids in the CSV stay integers, as ALS's output keeps the id types.
        assertEquals("struct<member:int,recommendations:array<struct<sku:int,score:float>>>", recs.schema().simpleString());
        List<Row> rows = recs.collectAsList();
        assertEquals(40, rows.size());
        rows.forEach(r -> assertEquals(5, r.getList(1).size()));
    }

    @Test
    void trainTakesAnItemTableDeclaredFeaturesAPerUserSplitAndCheckpoints(@TempDir Path dir) throws IOException {
        Path table = csv(dir);
        // The titles move to their own item table, joined on --item-col; the interactions keep member, sku, when.
        StringBuilder items = new StringBuilder("sku,name\n");
        for (int item = 0; item < 120; item++) {
            items.append(1000 + item).append(",\"").append(SyntheticMovieLens.title(item + 1).replace("\"", "\"\"")).append("\"\n");
        }
        Files.writeString(dir.resolve("items.csv"), items);
        Files.writeString(dir.resolve("interactions.csv"), String.join("\n", Files.readAllLines(table).stream()
                .map(l -> l.substring(0, l.indexOf(",\"") < 0 ? l.lastIndexOf(',') : l.indexOf(",\""))).toList()) + "\n");
        CliRun.Result train = run("train", "--ratings", dir.resolve("interactions.csv").toString(), "--format", "csv",
                "--items", dir.resolve("items.csv").toString(), "--user-col", "member", "--item-col", "sku",
                "--time-col", "when", "--title-col", "name", "--query-feature", "member:categorical",
                "--query-feature", "when:timestamp:50", "--candidate-feature", "sku:categorical",
                "--candidate-feature", "words=name:text:200", "--validation-split", "lastN", "--validation-last-n", "2",
                "--preprocess-on", "train", "--eval-every", "1", "--checkpoint-dir", dir.resolve("ck").toString(),
                "--early-stopping-patience", "1", "--layers", "16", "--epochs", "2", "--batch-size", "256",
                "--out", dir.resolve("model").toString());
        assertEquals(0, train.exitCode(), train.err());
        assertTrue(train.err().contains("Validation per user"), train.err());
        assertTrue(train.err().matches("(?s).*Early stopping chose epoch [12] \\(refitted.*"), train.err());
        // Checkpoints of both phases, and the stopping slice's curve and best state beside the first.
        List<String> checkpoints;
        try (var files = Files.list(dir.resolve("ck"))) {
            checkpoints = files.map(f -> f.getFileName().toString()).filter(n -> n.startsWith("16-seed42-")).sorted().toList();
        }
        assertEquals(3, checkpoints.size(), checkpoints.toString());
        Matcher chosen = Pattern.compile("Early stopping chose epoch (\\d+)").matcher(train.err());
        assertTrue(chosen.find(), train.err());
        assertTrue(checkpoints.get(0).endsWith("-refit" + chosen.group(1) + ".ckpt") && checkpoints.get(1).endsWith("-stopping.ckpt")
                && checkpoints.get(2).endsWith("-stopping.ckpt.best"), checkpoints.toString());
        String spec = Files.readString(dir.resolve("model/data/feature-spec.json"));
        assertTrue(spec.contains("\"name\" : \"words\"") && spec.contains("\"column\" : \"when\""), spec);
        CliRun.Result bad = run("train", "--ratings", dir.resolve("interactions.csv").toString(), "--format", "csv",
                "--user-col", "member", "--item-col", "sku", "--time-col", "when", "--title-col", "",
                "--query-feature", "member:colour", "--epochs", "1", "--out", dir.resolve("bad").toString());
        assertTrue(bad.exitCode() != 0 && bad.err().contains("unknown kind 'colour'"), bad.err());
        assertTrue(!Files.exists(dir.resolve("bad")), "nothing written for a bad setting");
    }

    /**
     * An item table with one item twice (the same row twice, so no feature disagrees) would repeat that item's
     * interactions; an item table without an interaction's item drops it, counted in the log.
     */
    @Test
    void anItemTableWithAnItemTwiceIsAnErrorAndMissingItemsAreCounted(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("interactions.csv"), "member,sku,when\n1,1000,100\n1,1001,200\n2,1000,300\n2,1002,400\n");
        Files.writeString(dir.resolve("items.csv"), "sku,name\n1000,alpha\n1001,beta\n1001,beta\n");
        String[] args = {"train", "--ratings", dir.resolve("interactions.csv").toString(), "--format", "csv",
                "--items", dir.resolve("items.csv").toString(), "--user-col", "member", "--item-col", "sku",
                "--time-col", "when", "--title-col", "name", "--layers", "4", "--epochs", "1", "--batch-size", "2",
                "--out", dir.resolve("model").toString()};
        CliRun.Result twice = run(args);
        assertEquals(2, twice.exitCode(), twice.err());
        assertTrue(twice.err().contains("--items " + dir.resolve("items.csv") + ": sku ['1001' (2 rows)]"), twice.err());
        assertFalse(Files.exists(dir.resolve("model")));

        Files.writeString(dir.resolve("items.csv"), "sku,name\n1000,alpha\n1001,beta\n");
        CliRun.Result missing = run(args);
        assertEquals(0, missing.exitCode(), missing.err());
        assertTrue(missing.err().contains("1 interactions dropped because their sku is missing from it, e.g. [1002]"),
                missing.err());
    }

    @Test
    void trainReadsAMovieLensFolderAtAHadoopUri(@TempDir Path dir) throws IOException {
        Path ml = SyntheticMovieLens.writeDat(dir.resolve("ml-1m"), 30, 36, 600, 3, true);
        TestFileSystem.register(TestSpark.session()); // the command's session is this one (getOrCreate)
        CliRun.Result train = run("train", "--movielens", TestFileSystem.uri(ml), "--layers", "8", "--epochs", "1",
                "--batch-size", "256", "--out", dir.resolve("model").toString());
        assertEquals(0, train.exitCode(), train.err());
        assertTrue(Files.isDirectory(dir.resolve("model/metadata")), "Spark ML metadata");

        TestFileSystem.register(TestSpark.session());
        CliRun.Result missing = run("train", "--movielens", TestFileSystem.uri(dir.resolve("none")), "--epochs", "1",
                "--out", dir.resolve("m0").toString());
        assertEquals(2, missing.exitCode(), missing.err());
        assertTrue(missing.err().contains("error: data folder testfs:" + dir.resolve("none") + " does not exist"), missing.err());
        assertFalse(Files.exists(dir.resolve("m0")));
    }

    @Test
    void aMissingColumnOrTableOrAnUnknownFormatIsNamedAndNothingIsSaved(@TempDir Path dir) throws IOException {
        Path table = csv(dir);
        CliRun.Result missing = run("train", "--ratings", table.toString(), "--format", "csv", "--user-col", "customer",
                "--item-col", "sku", "--time-col", "when", "--title-col", "name", "--out", dir.resolve("m1").toString());
        assertEquals(2, missing.exitCode());
        assertTrue(missing.err().contains("userCol: column 'customer' is missing"), missing.err());
        assertFalse(Files.exists(dir.resolve("m1")));
        CliRun.Result format = run("train", "--ratings", table.toString(), "--format", "xml", "--out", dir.resolve("m2").toString());
        assertEquals(2, format.exitCode());
        assertTrue(format.err().contains("--format: 'xml' is not one of parquet, csv, json"), format.err());
        CliRun.Result none = run("train", "--ratings", dir.resolve("none.csv").toString(), "--format", "csv",
                "--out", dir.resolve("m3").toString());
        assertEquals(2, none.exitCode(), none.err());
        assertTrue(none.err().contains("error: --ratings " + dir.resolve("none.csv") + ": no such file or folder"), none.err());
        assertFalse(none.err().contains("\tat "), "a missing table is a usage error, not a stack trace:\n" + none.err());
    }
}
