package io.deepretrieval.spark.cli;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every kind of bad setting, on each command's options and each sweep config key: a value out of range or of the
 * wrong type, an unknown option, key or name, options that exclude each other. Each row is a usage error: exit code
 * 2 (picocli's own for usage errors, and {@link Main}'s for bad settings) and one message that names the option or
 * key and, where there is one, the value; no stack trace, and nothing started: Spark is given a master it cannot
 * start with, so a row whose check comes only after Spark starts fails.
 */
class ConfigErrorsTest {
    /** Picocli's exit code for usage errors, which {@link Main} also gives bad settings. */
    private static final int USAGE = 2;
    private static final String NO_SPARK = "no-spark-before-the-checks";
    private static String master;

    @TempDir
    static Path tmp;

    /** One bad input: the command line (a sweep config's JSON first when {@code config} is not null). */
    record Row(String config, String[] args, int exitCode, String expected) {
        @Override
        public String toString() {
            return config != null ? "sweep config " + config : String.join(" ", args);
        }
    }

    private static Row cli(String expected, String... args) {
        return new Row(null, args, USAGE, expected);
    }

    private static Row config(String json, String expected) {
        return new Row(json, new String[0], USAGE, expected);
    }

    /** The train options that a row leaves alone: a table that is never read and a model folder never written. */
    private static String[] train(String... more) {
        return Stream.concat(Stream.of("train", "--ratings", "none.csv", "--out", "none-model"), Stream.of(more))
                .toArray(String[]::new);
    }

    static Stream<Row> rows() {
        String resumed = Path.of("none.incomplete").toAbsolutePath().toString();
        return Stream.of(
                // Unknown commands and options, values of the wrong type, missing and repeated options (picocli).
                cli("Unknown option: '--bogus'", "--bogus"),
                cli("Unmatched argument at index 0: 'nosuch'", "nosuch"),
                cli("Unknown option: '--bogus'", train("--bogus")),
                cli("Unknown options: '--epoch', '3'", "sweep", "--epoch", "3"),
                cli("Invalid value for option '--epochs': 'x' is not an int", "sweep", "--epochs", "x"),
                cli("Invalid value for option '--seed': '1.5' is not a long", "sweep", "--seed", "1.5"),
                cli("Invalid value for option '--time': 'yesterday' is not a long",
                        "recommend", "--model", "m", "--user", "1", "--time", "yesterday"),
                cli("Invalid value for option '--port': 'http' is not an int", "serve", "--model", "m", "--port", "http"),
                cli("Invalid value for option '--k': 'ten' is not an int", "recommend-all", "--model", "m", "--out", "o", "--k", "ten"),
                cli("Invalid value for option '--ratings': 'lots' is not a long", "synthetic", "--ratings", "lots", "--dest", "d"),
                cli("Invalid value for option '--sizes' (<sizes>): 'a' is not an int", "bench-topk", "--sizes", "a,b"),
                cli("Invalid value for option '--als-ranks' (<alsRanks>): 'x' is not an int",
                        "experiment", "--out", "none", "--als-ranks", "x"),
                cli("Missing required option: '--out=<out>'", "train", "--ratings", "r"),
                cli("Missing required option: '--user=<user>'", "recommend", "--model", "m"),
                cli("Missing required parameter for option '--host'", "serve", "--model", "m", "--host"),
                cli("option '--max-epochs' (VALUE) should be specified only once", train("--epochs", "3", "--epochs", "4")),
                cli("option '--no-refit-after-stopping' should be specified without 'maybe' parameter", train("--no-refit=maybe")),

                // train: the Estimator's params, each checked by its own validator.
                cli("--epochs/--max-epochs 0: not a valid maxEpochs", train("--epochs", "0")),
                cli("--epochs/--max-epochs 99999999999: '99999999999' is not an integer", train("--epochs", "99999999999")),
                cli("--batch-size -5: not a valid batchSize", train("--batch-size", "-5")),
                cli("--embedding-dim 0: not a valid embeddingDim", train("--embedding-dim", "0")),
                cli("--learning-rate 0: not a valid learningRate", train("--learning-rate", "0")),
                cli("--learning-rate Infinity: 'Infinity' is not a finite number", train("--learning-rate", "Infinity")),
                cli("--initial-accumulator -0.1: not a valid initialAccumulator", train("--initial-accumulator", "-0.1")),
                cli("--epsilon 0: not a valid epsilon", train("--epsilon", "0")),
                cli("--temperature warm: 'warm' is not a number", train("--temperature", "warm")),
                cli("--seed 1.5: '1.5' is not an integer", train("--seed", "1.5")),
                cli("--layers/--layer-sizes 64,x: '64,x' is not a comma-separated list of integers", train("--layers", "64,x")),
                cli("--layers/--layer-sizes 64,0: not a valid layerSizes", train("--layers", "64,0")),
                cli("--top-k 10,5: not a valid topK", train("--top-k", "10,5")),
                cli("--workers/--num-workers -1: not a valid numWorkers", train("--workers", "-1")),
                cli("--averaging-frequency 0: not a valid averagingFrequency", train("--averaging-frequency", "0")),
                cli("--step-threads -1: not a valid stepThreads", train("--step-threads", "-1")),
                cli("--native-threads -1: not a valid nativeThreads", train("--native-threads", "-1")),
                cli("--timestamp-buckets 1: not a valid timestampBuckets", train("--timestamp-buckets", "1")),
                cli("--max-tokens 2: not a valid maxTokens", train("--max-tokens", "2")),
                cli("--eval-every 0: not a valid evalEvery", train("--eval-every", "0")),
                cli("--validation-fraction 0.7: not a valid validationFraction", train("--validation-fraction", "0.7")),
                cli("--validation-last-n 0: not a valid validationLastN", train("--validation-last-n", "0")),
                cli("--ranking-k -1: not a valid rankingK", train("--ranking-k", "-1")),
                cli("--mixed-negatives -1: not a valid mixedNegatives", train("--mixed-negatives", "-1")),
                cli("--id-dropout 1: not a valid idDropout", train("--id-dropout", "1")),
                cli("--early-stopping-patience -1: not a valid earlyStoppingPatience", train("--early-stopping-patience", "-1")),
                cli("--early-stopping-fraction 0: not a valid earlyStoppingFraction", train("--early-stopping-fraction", "0")),
                cli("--early-stopping-k 7: not a valid earlyStoppingK", train("--early-stopping-k", "7")),
                cli("--validation-split weird: not a valid validationSplit", train("--validation-split", "weird")),
                cli("--history-mode weird: not a valid historyMode", train("--history-mode", "weird")),
                cli("--handle-invalid keep: not a valid handleInvalid", train("--handle-invalid", "keep")),
                cli("--preprocess-on test: not a valid preprocessOn", train("--preprocess-on", "test")),
                cli("--cold-start-strategy zero: not a valid coldStartStrategy", train("--cold-start-strategy", "zero")),
                cli("--storage-level FAST: not a valid storageLevel", train("--storage-level", "FAST")),

                // train: params checked together, which the Estimator does only once fit has read the data.
                cli("--candidate-features: feature 'member:colour': unknown kind 'colour'", train("--query-feature", "member:colour")),
                cli("--id-dropout 0.2: needs a categorical --query-feature", train("--id-dropout", "0.2", "--query-feature", "t:numeric")),
                cli("--learning-rate-schedule x: must be epoch:rate", train("--learning-rate-schedule", "x")),
                cli("--learning-rate-schedule 0:0.1: must be epoch:rate", train("--learning-rate-schedule", "0:0.1")),
                cli("--learning-rate-schedule 5:0.2: epoch 5 is given twice",
                        train("--learning-rate-schedule", "5:0.1", "--learning-rate-schedule", "5:0.2")),
                cli("--early-stopping-k 100: is not one of --top-k 5,10", train("--early-stopping-patience", "2", "--top-k", "5,10")),
                cli("--validation-split temporal: needs --validation-fraction > 0", train("--validation-split", "temporal")),

                // train: its sources.
                cli("--format: 'xml' is not one of parquet, csv, json", train("--format", "xml")),
                cli("--movielens cannot be combined with --ratings", train("--movielens", "ml")),
                cli("--movielens cannot be combined with --items", "train", "--movielens", "ml", "--items", "i.csv", "--out", "m"),
                cli("--movielens cannot be combined with --format", "train", "--movielens", "ml", "--format", "csv", "--out", "m"),
                cli("train needs --ratings URI or --movielens DIR", "train", "--out", "m"),

                // sweep: the flags, checked as the config keys they set; --config and --resume.
                cli("epochs: must be >= 1, got 0", "sweep", "--epochs", "0"),
                cli("batchSize: must be >= 1, got 0", "sweep", "--batch-size", "0"),
                cli("workers: must be 0 (train in the driver JVM) or a number of Spark workers, got -1", "sweep", "--workers", "-1"),
                cli("batchSizePerWorker: must be >= 1, got 0", "sweep", "--batch-size-per-worker", "0"),
                cli("averagingFrequency: must be >= 1, got 0", "sweep", "--averaging-frequency", "0"),
                cli("stepThreads: must be >= 0", "sweep", "--step-threads", "-1"),
                cli("seeds: must be >= 1", "sweep", "--seeds", "0"),
                cli("--layers 64,,32: '' is not a layer size", "sweep", "--layers", "64,,32"),
                cli("layerSizes: layer size 0 in [0] must be between 1 and", "sweep", "--layers", "0"),
                cli("--config: file none.json does not exist", "sweep", "--config", "none.json"),
                cli("--resume continues with the settings saved in", "sweep", "--resume", "none.incomplete", "--epochs", "3"),
                cli("--resume needs the .incomplete folder of an interrupted sweep (with its config.json), got " + resumed,
                        "sweep", "--resume", "none.incomplete"),

                // sweep config file: the file, unknown keys, wrong types (elements too), ranges.
                config("[1, 2]", "the file must hold one JSON object"),
                config("{\"epochs\": ", "cannot read it as JSON"),
                config("{\"epochs\": 3, \"epochs\": 4}", "cannot read it as JSON: Duplicate field 'epochs'"),
                config("{\"epochs\": 3} {\"epochs\": 4}", "cannot read it as JSON: Trailing token"),
                config("{\"epoch\": 3}", "unknown key 'epoch' (did you mean 'epochs'?)"),
                config("{\"bogus\": 1}", "unknown key 'bogus'"),
                config("{\"batchSize\": \"big\"}", "batchSize: must be an integer, got \"big\""),
                config("{\"epochs\": 3.0}", "epochs: must be an integer, got 3.0"),
                config("{\"epochs\": 3000000000}", "epochs: must be an integer between -2147483648 and 2147483647, got 3000000000"),
                config("{\"seed\": 1.5}", "seed: must be an integer, got 1.5"),
                config("{\"learningRate\": true}", "learningRate: must be a number, got true"),
                config("{\"learningRate\": \"NaN\"}", "learningRate: must be a number, got \"NaN\""),
                config("{\"data\": 3}", "data: must be a string, got 3"),
                config("{\"master\": null}", "master: must be a string, got null"),
                config("{\"repartition\": \"yes\"}", "repartition: must be true or false, got \"yes\""),
                config("{\"alsBaseline\": 1}", "alsBaseline: must be true or false, got 1"),
                config("{\"logQCorrection\": null}", "logQCorrection: must be true or false, got null"),
                config("{\"layerSizes\": 5}", "layerSizes: must be a list of lists of integers, got 5"),
                config("{\"layerSizes\": [5]}", "layerSizes: must be a list of lists of integers, got [5]"),
                config("{\"layerSizes\": [[1.5]]}", "layerSizes: must be a list of lists of integers, got [[1.5]]"),
                config("{\"layerSizes\": [[\"a\"]]}", "layerSizes: must be a list of lists of integers, got [[\"a\"]]"),
                config("{\"topK\": [\"a\"]}", "topK: must be a list of integers, got [\"a\"]"),
                config("{\"learningRateSchedule\": {\"10\": \"x\"}}", "learningRateSchedule: must be an object of numbers, got {\"10\":\"x\"}"),
                config("{\"learningRateSchedule\": [1]}", "learningRateSchedule: must be an object of numbers, got [1]"),
                config("{\"data\": \"\"}", "data: must name the MovieLens folder"),
                config("{\"out\": \" \"}", "out: must name the results folder"),
                config("{\"master\": \"\"}", "master: must be a Spark master URL"),
                config("{\"epochs\": 0}", "epochs: must be >= 1, got 0"),
                config("{\"evalEvery\": 0}", "evalEvery: must be >= 1, got 0"),
                config("{\"batchSize\": -1}", "batchSize: must be >= 1, got -1"),
                config("{\"layerSizes\": []}", "layerSizes: must list at least one depth setting"),
                config("{\"layerSizes\": [[]]}", "layerSizes: a depth setting is empty"),
                config("{\"layerSizes\": [[100000]]}", "layerSizes: layer size 100000 in [100000] must be between 1 and"),
                config("{\"embeddingDim\": 0}", "embeddingDim: must be >= 1, got 0"),
                config("{\"learningRate\": 0}", "learningRate: must be a positive number, got 0.0"),
                config("{\"learningRateSchedule\": {\"0\": 0.1}}", "learningRateSchedule: '0' is not an epoch"),
                config("{\"learningRateSchedule\": {\"10\": -1}}", "learningRateSchedule: the rate from epoch 10 must be a positive number, got -1.0"),
                config("{\"initialAccumulator\": -1}", "initialAccumulator: must be >= 0, got -1.0"),
                config("{\"epsilon\": 0}", "epsilon: must be > 0, got 0.0"),
                config("{\"testFraction\": 0}", "testFraction: must be between 0 and 1 (exclusive), got 0.0"),
                config("{\"testFraction\": 1}", "testFraction: must be between 0 and 1 (exclusive), got 1.0"),
                config("{\"timestampBuckets\": 1}", "timestampBuckets: must be >= 2, got 1"),
                config("{\"maxTokens\": 2}", "maxTokens: must be >= 3"),
                config("{\"topK\": []}", "topK: must list K values >= 1, got []"),
                config("{\"topK\": [0]}", "topK: must list K values >= 1, got [0]"),
                config("{\"workers\": -1}", "workers: must be 0"),
                config("{\"batchSizePerWorker\": 0}", "batchSizePerWorker: must be >= 1, got 0"),
                config("{\"averagingFrequency\": 0}", "averagingFrequency: must be >= 1, got 0"),
                config("{\"storageLevel\": \"FAST\"}", "storageLevel: 'FAST' is not a Spark storage level"),
                config("{\"inputPolicy\": \"lenient\"}", "inputPolicy: 'lenient' is not failFast or dropMalformed"),
                config("{\"seeds\": 0}", "seeds: must be >= 1"),
                config("{\"nativeThreads\": -1}", "nativeThreads: must be >= 0"),
                config("{\"stepThreads\": -1}", "stepThreads: must be >= 0"),
                config("{\"temperature\": 0}", "temperature: must be a positive number, got 0.0"),
                config("{\"mixedNegatives\": -1}", "mixedNegatives: must be"),

                // experiment.
                cli("--split nope: must be random, temporal or last", "experiment", "--out", "none", "--split", "nope"),
                cli("--seeds 0: must be >= 1", "experiment", "--out", "none", "--seeds", "0"),
                cli("--variant nope: unknown; known are", "experiment", "--out", "none", "--variant", "nope"),
                cli("--als-ranks / --als-regs / --als-alphas / --als-iters: ALS grid ranks [0]",
                        "experiment", "--out", "none", "--als-ranks", "0"),
                cli("--als-ranks / --als-regs / --als-alphas / --als-iters: ALS grid alphas [0.0]",
                        "experiment", "--out", "none", "--als-alphas", "0"),
                cli("--epochs 0: must be >= 1", "experiment", "--out", "none", "--epochs", "0"),
                cli("--eval-every 0: must be >= 1", "experiment", "--out", "none", "--eval-every", "0"),
                cli("--patience -1: must be >= 0", "experiment", "--out", "none", "--patience", "-1"),
                cli("--test-fraction 0.5: must be > 0.0 and < 0.5", "experiment", "--out", "none", "--test-fraction", "0.5"),
                cli("--test-fraction 0.0: must be > 0.0 and < 0.5", "experiment", "--out", "none", "--test-fraction", "0"),
                cli("--stopping-fraction -1.0: must be > 0.0 and < 0.5", "experiment", "--out", "none", "--stopping-fraction", "-1"),

                // recommend, recommend-all.
                cli("--k must be >= 1, got 0", "recommend", "--model", "m", "--user", "1", "--k", "0"),
                cli("--exclude-seen needs --ratings FILE", "recommend", "--model", "m", "--user", "1", "--exclude-seen"),
                cli("--ratings needs --exclude-seen", "recommend", "--model", "m", "--user", "1", "--ratings", "u.data"),
                cli("--k must be >= 1, got -3", "recommend-all", "--model", "m", "--out", "o", "--k", "-3"),

                // serve.
                cli("--port must be in 0..65535, got 70000", "serve", "--model", "m", "--port", "70000"),
                cli("--port must be in 0..65535, got -1", "serve", "--model", "m", "--port", "-1"),
                cli("--index must be exact or hnsw, got ivf", "serve", "--model", "m", "--index", "ivf"),
                cli("--hnsw-m 1: HNSW m must be in 2..", "serve", "--model", "m", "--hnsw-m", "1"),
                cli("--hnsw-beam-width 0: HNSW beamWidth must be in 1..", "serve", "--model", "m", "--hnsw-beam-width", "0"),
                cli("--hnsw-ef-search 0: HNSW efSearch must be >= 1", "serve", "--model", "m", "--hnsw-ef-search", "0"),
                cli("--threads 0: must be >= 1", "serve", "--model", "m", "--threads", "0"),
                cli("--max-k 0: must be >= 1", "serve", "--model", "m", "--max-k", "0"),
                cli("--synthetic-candidates -5: must be >= 1", "serve", "--model", "m", "--synthetic-candidates", "-5"),
                cli("--shutdown-delay must be >= 0, got -1", "serve", "--model", "m", "--shutdown-delay", "-1"),

                // synthetic, download.
                cli("--ratings 0: must be >= 1", "synthetic", "--ratings", "0", "--dest", "d"),
                cli("--url not a url: not a URL", "download", "--dest", "d", "--url", "not a url"),
                cli("--url ftp://example.org/ml.zip: must be an http:// or https:// URL", "download", "--dest", "d",
                        "--url", "ftp://example.org/ml.zip"),

                // bench.
                cli("--epochs 0: must be >= 1", "bench", "--epochs", "0"),
                cli("--batch-size 0: must be >= 1", "bench", "--batch-size", "0"),
                cli("--warmup-steps -1: must be >= 0", "bench", "--warmup-steps", "-1"),
                cli("--eval-passes 0: must be >= 1", "bench", "--eval-passes", "0"),
                cli("--idle-rounds -1: must be >= 0", "bench", "--idle-rounds", "-1"),
                cli("--idle-seconds -1: must be >= 0", "bench", "--idle-seconds", "-1"),
                cli("--workers -1: must be >= 0", "bench", "--workers", "-1"),
                cli("--averaging-frequency 0: must be >= 1", "bench", "--averaging-frequency", "0"),
                cli("--native-threads -1: must be >= 0", "bench", "--native-threads", "-1"),
                cli("--step-threads -1: must be >= 0", "bench", "--step-threads", "-1"),
                cli("--layers x: 'x' is not a layer size", "bench", "--layers", "x"),
                cli("--layers 64,0: layer size 0 must be between 1 and", "bench", "--layers", "64,0"),
                cli("--synthetic 0: must be >= 1", "bench", "--synthetic", "0"),
                cli("--synthetic cannot be combined with --data", "bench", "--synthetic", "1000", "--data", "d"),

                // bench-recommend, bench-histories.
                cli("--users 0: must be >= 1", "bench-recommend", "--users", "0"),
                cli("--items 0: must be >= 1", "bench-recommend", "--items", "0"),
                cli("--per-user 0: must be >= 1", "bench-recommend", "--per-user", "0"),
                cli("--k 0: must be >= 1", "bench-recommend", "--k", "0"),
                cli("--model cannot be combined with --users", "bench-recommend", "--model", "m", "--users", "10"),
                cli("--history 0: must be >= 1", "bench-histories", "--data", "d", "--history", "0"),

                // bench-topk.
                cli("--sizes 0: must be >= 1", "bench-topk", "--sizes", "100,0"),
                cli("--dim 0: must be >= 1", "bench-topk", "--dim", "0"),
                cli("--per-cluster 0: must be >= 1", "bench-topk", "--per-cluster", "0"),
                cli("--spread -1.0: must be a finite number >= 0", "bench-topk", "--spread", "-1"),
                cli("--queries 0: must be >= 1", "bench-topk", "--queries", "0"),
                cli("--k 0: must be >= 1", "bench-topk", "--k", "0"),
                cli("--hnsw-m 1: HNSW m must be in 2..", "bench-topk", "--hnsw-m", "1"),
                cli("--hnsw-ef-search 0: HNSW efSearch must be >= 1", "bench-topk", "--hnsw-ef-search", "100,0"),
                cli("--threads 0: must be >= 1", "bench-topk", "--threads", "0"),
                cli("--synthetic-candidates needs --model", "bench-topk", "--synthetic-candidates", "1000"),
                cli("--model cannot be combined with --sizes", "bench-topk", "--model", "m", "--sizes", "100"));
    }

    @BeforeAll
    static void noSparkCanStart() {
        master = System.getProperty("spark.master");
        System.setProperty("spark.master", NO_SPARK);
    }

    @AfterAll
    static void restoreMaster() {
        if (master == null) {
            System.clearProperty("spark.master");
        } else {
            System.setProperty("spark.master", master);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void isAUsageErrorNamingTheSettingWithoutATrace(Row row) throws IOException {
        String[] args = row.args();
        if (row.config() != null) {
            Path file = Files.writeString(Files.createTempFile(tmp, "sweep", ".json"), row.config());
            args = new String[]{"sweep", "--config", file.toString(), "--data", tmp.resolve("none").toString()};
        }
        CliRun.Result r = CliRun.run(args);
        assertEquals(row.exitCode(), r.exitCode(), r.err());
        assertTrue(r.err().contains(row.expected()), "expected '" + row.expected() + "' in:\n" + r.err());
        assertFalse(r.err().contains("\tat ") || r.err().contains("Exception in thread"), "a stack trace:\n" + r.err());
        assertFalse(r.err().contains(NO_SPARK), "Spark was started before the check:\n" + r.err());
    }
}
