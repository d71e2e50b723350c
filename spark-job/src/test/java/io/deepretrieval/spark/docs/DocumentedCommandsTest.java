package io.deepretrieval.spark.docs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.deepretrieval.spark.SyntheticMovieLens;
import io.deepretrieval.spark.TestSpark;
import io.deepretrieval.spark.cli.InProcessCli;
import io.deepretrieval.spark.cli.Main;
import io.deepretrieval.spark.docs.DocumentedCommands.Command;
import io.deepretrieval.spark.experiment.ObjectiveExperiment;
import io.deepretrieval.spark.experiment.Variant;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.ParseResult;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every command the README, CONTRIBUTING.md and docs/*.md show runs, so that a documented command cannot break
 * unseen ({@link DocumentedCommands} reads them). {@code bin/deep-retrieval} commands run in this JVM through the
 * CLI's entry point with the documented flags, block by block in the pages' order; {@code serve} starts in a thread
 * and the block's {@code curl} lines are sent to it (same path, query and body) and must answer 200 with JSON.
 * Every other command is in {@link #NOT_RUN} with the test that runs it or why none can; a documented command that
 * is neither run here nor listed there fails {@link #everyCommandIsRunHereOrListedWithWhereItRuns}.
 *
 * <p>What is substituted, and nothing else: {@code data/ml-100k} is a small generated MovieLens 100k folder (60
 * users with demographics, 200 movies, 2,000 ratings; user 42 and movies 50, 172 and 181 exist, as the examples
 * need); {@code hdfs:///warehouse/purchases} and {@code .../products} are generated Parquet tables with the columns
 * the commands name; every other path a command writes (and the later commands of its block read) is a temporary
 * folder; a model a block did not train ({@code results/<run>/models/32}, {@code /tmp/model}) is one trained first
 * with those layers (2 epochs) and, so that serving.md's history requests can run, the tutorial's query features
 * plus a 50-item history; {@code --port N} is 0 (any free port), and the {@code curl} lines go to that port;
 * {@code conf/sweep.json} is the repository's, as {@code bin/deep-retrieval} reads it. Counts lowered so that each
 * command takes seconds ({@link #REDUCTIONS}):
 *
 * <table>
 * <caption>Counts run lower than documented</caption>
 * <tr><th>command</th><th>documented</th><th>run</th><th>why</th></tr>
 * <tr><td>{@code sweep} without {@code --epochs}</td><td>conf/sweep.json's 300</td><td>{@code --epochs 2}</td>
 *     <td>300 epochs × 3 depths with evaluations, or × rounds of parameter averaging, take minutes even on tiny data
 *     (the ALS baseline's grid still runs)</td></tr>
 * <tr><td>{@code train}</td><td>{@code --epochs 300}, {@code --epochs 100}</td><td>{@code --epochs 2}</td><td>each
 *     epoch ends with a full garbage collection: 300 of them take minutes</td></tr>
 * <tr><td>{@code bench} without {@code --warmup-steps}</td><td>250 warm-up steps</td><td>{@code --warmup-steps 5}</td>
 *     <td>on 1,600 training rows each warm-up step is a pass over the data, with its collection</td></tr>
 * <tr><td>{@code synthetic}</td><td>{@code --ratings 10000000}</td><td>{@code --ratings 20000}</td><td>a size: 10M
 *     rows take minutes to write and to read back in {@code bench-histories}</td></tr>
 * <tr><td>{@code bench-topk}</td><td>{@code --sizes 10000,100000,1000000}, {@code --sizes 1000000}</td><td>{@code
 *     --sizes 200,1000,2000}, {@code --sizes 2000}</td><td>sizes: the 1M HNSW graph takes many minutes</td></tr>
 * <tr><td>{@code serve}</td><td>{@code --synthetic-candidates 100000}</td><td>{@code --synthetic-candidates 2000}</td>
 *     <td>a size: the 1M HNSW graph takes many minutes</td></tr>
 * </table>
 *
 * <p>The two {@code experiment} commands take many minutes even so; they are in {@link #NOT_RUN}, and
 * {@link #experimentCommandsParseWithKnownVariantsAndSplits} checks their options, variants and splits.
 */
class DocumentedCommandsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CLI = "bin/deep-retrieval";
    private static final String CONSUMER = "ConsumerProjectIT runs the README's quickstart block as written, against"
            + " the packaged artifacts";
    private static final String COMPOSE = "ComposeClusterIT runs this compose sequence (with a project name, data and"
            + " results folder of its own); needs a Docker engine, which .ci/run starts";
    private static final String SERVE_ROLE = "ComposeClusterIT starts the compose serve service on the sweep's saved"
            + " model as version 1 of a read-only model root, waits for its health check and asks it";
    private static final String GPU = "needs an NVIDIA GPU, the CUDA natives and the NVIDIA container toolkit: no CI"
            + " machine has them; DockerAssetsIT lints docker/docker-compose.yml and ComposeClusterIT runs the"
            + " entrypoint's GPU check against a recorded nvidia-smi answer";
    private static final String EXPERIMENT = "minutes even on the tiny data (every variant on every split is a Spark"
            + " preparation, an early-stopped fit and its refit, and each split tunes the ALS, item-to-item and"
            + " most-popular baselines: about 13 min for the history block on 2 cores shared with other jobs, with one"
            + " seed, two epochs and one ALS setting); ExperimentCommandTest runs experiment end to end, and"
            + " experimentCommandsParseWithKnownVariantsAndSplits checks these commands' options, variants and splits";
    private static final String VERIFY = ".ci/run runs ./mvnw -B verify, every phase this one runs included";
    private static final String INSTALL = "copies the artifacts into ~/.m2, which a test must not change; ./mvnw -B"
            + " verify (.ci/run) runs every phase before install, and ConsumerProjectIT installs them into a"
            + " repository of its own";

    /**
     * The documented commands not run by this test, exactly as documented (normalised), each with the test that runs
     * it or why none can.
     */
    static final Map<String, String> NOT_RUN = Map.ofEntries(
            // README.md
            Map.entry("./mvnw -B verify", "the suite itself: .ci/run runs it in CI"),
            Map.entry("cd examples/quickstart", CONSUMER),
            Map.entry("../../mvnw -B -q compile dependency:build-classpath -Dmdep.outputFile=classpath.txt", CONSUMER),
            Map.entry("java $(grep -o -- '--add-opens=[^ ]*' ../../bin/deep-retrieval) -cp \"target/classes:$(cat classpath.txt)\""
                    + " example.QuickStart /tmp/quickstart", CONSUMER),
            Map.entry("java $(grep -o -- '--add-opens=[^ ]*' ../../bin/deep-retrieval) -cp \"target/classes:$(cat classpath.txt)\""
                    + " example.ModelSelection /tmp/quickstart", CONSUMER),
            Map.entry("java $(grep -o -- '--add-opens=[^ ]*' ../../bin/deep-retrieval) -cp \"target/classes:$(cat classpath.txt)\""
                    + " example.SideFeatures /tmp/quickstart", CONSUMER),
            // CONTRIBUTING.md, docs/installation.md
            Map.entry("./mvnw -B -DskipTests install", INSTALL),
            Map.entry("./mvnw -B -o -DskipTests install", INSTALL + "; offline, the same"),
            Map.entry("./mvnw -B test", VERIFY),
            Map.entry("./mvnw -B -pl spark-job -am -Dtest=CliReferenceTest -Dsurefire.failIfNoSpecifiedTests=false test",
                    "one class of the suite: CliReferenceTest runs in ./mvnw -B verify (.ci/run)"),
            Map.entry(".ci/run", "the CI entry point: it installs packages and starts a Docker engine as root, then runs"
                    + " ./mvnw -B verify; the CI runs it"),
            // CONTRIBUTING.md, docs/cli.md
            Map.entry("./mvnw -B -q -DskipTests package && java -cp \"spark-job/target/classes:spark-job/target/lib/*\""
                    + " io.deepretrieval.spark.cli.CliReference docs/cli.md", "CliReferenceTest renders docs/cli.md"
                    + " with the same CliReference and fails when the page differs"),
            // docs/deployment.md, docs/estimator.md
            Map.entry("spark-submit --master spark://master:7077 --deploy-mode client --class io.deepretrieval.spark.cli.Main"
                    + " --driver-memory 4g --executor-memory 4g --executor-cores 2 --total-executor-cores 4 --conf"
                    + " spark.executor.memoryOverhead=3g --conf \"spark.executor.extraJavaOptions=-Dorg.bytedeco.javacpp.maxbytes=2G"
                    + " -Dorg.bytedeco.javacpp.maxphysicalbytes=7G\" --conf spark.executorEnv.OMP_WAIT_POLICY=PASSIVE"
                    + " spark-job/target/deep-retrieval-spark-job-0.2.0-app.jar sweep --data /shared/ml-100k --out"
                    + " /shared/results --workers 2", "StandaloneClusterIT submits the app jar's sweep with --workers 2"
                    + " through SparkSubmit to a standalone master and two workers on separate hosts (needs root)"),
            Map.entry("spark-submit --master yarn --deploy-mode client --num-executors 2 --executor-cores 2 --class"
                    + " io.deepretrieval.spark.cli.Main --executor-memory 4g --conf spark.executor.memoryOverhead=3g --conf"
                    + " \"spark.executor.extraJavaOptions=-Dorg.bytedeco.javacpp.maxbytes=2G"
                    + " -Dorg.bytedeco.javacpp.maxphysicalbytes=7G\" --conf spark.executorEnv.OMP_WAIT_POLICY=PASSIVE"
                    + " spark-job/target/deep-retrieval-spark-job-0.2.0-app.jar sweep --data /shared/ml-100k --out"
                    + " /shared/results --workers 2", "needs a YARN cluster; StandaloneClusterIT submits the same app"
                    + " jar's sweep with --workers 2 to a standalone cluster"),
            Map.entry("spark-submit --master yarn --deploy-mode client --num-executors 2 --executor-cores 2 --class"
                    + " io.deepretrieval.spark.cli.Main --executor-memory 4g --conf spark.executor.memoryOverhead=3g"
                    + " spark-job/target/deep-retrieval-spark-job-0.2.0-app.jar train --ratings hdfs:///warehouse/purchases"
                    + " --user-col customer --item-col product --time-col ts --title-col name --layers 64,32 --epochs 100"
                    + " --workers 2 --out hdfs:///models/towers", "needs a YARN cluster and HDFS; the same train"
                    + " command runs here in local mode (docs/estimator.md's first block), and StandaloneClusterIT"
                    + " submits the app jar to a standalone cluster"),
            Map.entry("./mvnw -B package -DskipTests", "ComposeClusterIT and DockerAssetsIT run after the package phase"
                    + " of ./mvnw -B verify (.ci/run)"),
            Map.entry("eval \"$(docker/engine.sh start)\"", COMPOSE),
            Map.entry("docker/base-image.sh local/debian:bookworm", COMPOSE),
            Map.entry("export DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0", COMPOSE),
            Map.entry("C=\"docker-compose -f docker/docker-compose.cpu.yml -p deep-retrieval-cpu\"", COMPOSE),
            Map.entry("$C build", COMPOSE),
            Map.entry("mkdir -p results && chmod 777 results", COMPOSE),
            Map.entry("DR_DATA=$PWD/data/ml-100k DR_RESULTS=$PWD/results $C up -d --scale worker=2 master worker", COMPOSE),
            Map.entry("DR_DATA=$PWD/data/ml-100k DR_RESULTS=$PWD/results $C run -T submit submit --no-baseline --name compose"
                    + " --epochs 4 --layers 16 --batch-size-per-worker 256 --averaging-frequency 2", COMPOSE),
            Map.entry("$C down -v --remove-orphans", COMPOSE),
            Map.entry("docker/engine.sh stop", COMPOSE),
            Map.entry("mkdir -p models && cp -r results/compose/models/16 models/1", SERVE_ROLE),
            Map.entry("DR_MODELS=$PWD/models $C up -d serve", SERVE_ROLE),
            Map.entry("curl 'http://127.0.0.1:8090/recommend?user=1&k=5'", SERVE_ROLE),
            Map.entry(CLI + " serve --model-root models --port 8080 --poll-seconds 10", "ServeCommandTest serves a model"
                    + " root with a version folder, then a broken version (refused) and a newer one (swapped in)"),
            Map.entry(CLI + " download", "needs the network; MovieLensDownloaderTest and DefaultDataDownloadTest run the same download from a"
                    + " loopback server"),
            Map.entry("./mvnw -B -Pcuda -Djavacpp.platform=linux-x86_64 package -DskipTests", GPU),
            Map.entry("G=\"docker-compose -f docker/docker-compose.yml -p deep-retrieval\"", GPU),
            Map.entry("$G build", GPU),
            Map.entry("docker run --rm --gpus all deep-retrieval:gpu gpu-check", GPU),
            Map.entry("$G up --scale worker=2", GPU),
            // docs/estimator.md
            Map.entry(CLI + " experiment --data data/ml-100k --out target/experiment --seeds 3 --eval-every 1 --patience 5"
                    + " --variant logq --variant tutorial --variant logq+side --variant logq+hits --variant logq+hits+side"
                    + " --variant mixed512 --variant hits --variant side --variant temperature0.5 --variant logq+side-time"
                    + " --variant logq+side-time+unseen --variant logq+demographics", EXPERIMENT),
            Map.entry(CLI + " experiment --data data/ml-100k --out docs/experiment-history --split random --split last"
                    + " --split temporal --seeds 3 --variant logq+history50 --variant logq+history10 --variant"
                    + " logq+history50-id --variant logq+history50+separate --variant logq+profile50 --variant"
                    + " logq+profile50-id --eval-every 1 --patience 5 --als-ranks 32,128 --als-regs 0.1,1.0 --als-alphas"
                    + " 1,10 --als-iters 10", EXPERIMENT),
            // docs/performance.md
            Map.entry("./mvnw -B -q -pl model test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/model.cp",
                    "builds a manual benchmark's class path; ./mvnw -B verify (.ci/run) compiles the model's tests"),
            Map.entry("cd model && java -cp target/test-classes:target/classes:$(cat /tmp/model.cp)"
                    + " io.deepretrieval.model.train.EvaluationMemoryBench 20", "a manual benchmark of resident memory"
                    + " (20 evaluations of 100,000 ratings, figures rather than checks) in the model's test classes,"
                    + " which are not on this module's class path; ./mvnw -B verify compiles it"),
            Map.entry("EXECUTOR_MEMORY=3g bin/bench-cluster-memory 10000000 1 32 histories", "BenchClusterMemoryIT runs"
                    + " bin/bench-cluster-memory with the histories job (and the sweep) on 5,000 rows"),
            // docs/serving.md
            Map.entry("wrk -t2 -c16 -d20s --latency -s docs/wrk-recommend.lua http://127.0.0.1:18080", "a 20 s load test"
                    + " with wrk (not installed in CI); the serve command before it runs here"),
            Map.entry("wrk -t2 -c16 -d20s --latency -s docs/wrk-recommend.lua http://127.0.0.1:18081", "a 20 s load test"
                    + " with wrk (not installed in CI); the serve command before it runs here"));

    /** A count a documented command runs with here: {@code documented} null means the option is absent (a default). */
    record Reduction(String command, String option, String documented, String run) {
    }

    /** The counts lowered so that each command takes seconds on the tiny data; see the class's table. */
    static final List<Reduction> REDUCTIONS = List.of(
            new Reduction("sweep", "--epochs", null, "2"),
            new Reduction("train", "--epochs", "300", "2"),
            new Reduction("train", "--epochs", "100", "2"),
            new Reduction("bench", "--warmup-steps", null, "5"),
            new Reduction("synthetic", "--ratings", "10000000", "20000"),
            new Reduction("bench-topk", "--sizes", "10000,100000,1000000", "200,1000,2000"),
            new Reduction("bench-topk", "--sizes", "1000000", "2000"),
            new Reduction("serve", "--synthetic-candidates", "100000", "2000"));

    /** Options whose values are paths (unless a number: {@code synthetic --ratings N}, {@code bench-recommend --items N}). */
    private static final Set<String> PATH_OPTIONS = Set.of("--data", "--movielens", "--ratings", "--items", "--out",
            "--dest", "--model", "--checkpoint-dir", "--config", "--cache", "--index-dir", "--histories", "--resume");

    /** Defaults that are paths relative to the repository root, where bin/deep-retrieval runs them. */
    private static final Map<String, List<String>> PATH_DEFAULTS = Map.of(
            "sweep", List.of("--config", "conf/sweep.json", "--data", "data/ml-100k", "--out", "results"),
            "bench", List.of("--data", "data/ml-100k"),
            "experiment", List.of("--data", "data/ml-100k"));

    private static final int USERS = 60;

    @TempDir
    static Path shared;
    /** The stand-in for data/ml-100k. */
    static Path movieLens;
    /** The stand-in for hdfs:///warehouse/. */
    static Path warehouse;
    /** Models of blocks that use one they did not train, by layer label. */
    static final Map<String, Path> MODELS = new HashMap<>();

    @BeforeAll
    static void writeData() throws IOException {
        movieLens = SyntheticMovieLens.write100k(shared.resolve("data/ml-100k"), USERS, 200, 2000, 4);
        // The users' demographics as MovieLens 100k has them (u.user), which train --movielens joins on.
        StringBuilder users = new StringBuilder();
        String[] occupations = {"technician", "writer", "student", "other"};
        for (int u = 1; u <= USERS; u++) {
            users.append(u).append('|').append(18 + u % 50).append('|').append(u % 2 == 0 ? 'F' : 'M').append('|')
                    .append(occupations[u % occupations.length]).append('|').append(10000 + 7919 * u % 89999).append('\n');
        }
        Files.writeString(movieLens.resolve("u.user"), users);
        warehouse = shared.resolve("warehouse");
        SparkSession spark = TestSpark.session();
        // Purchases as docs/estimator.md names their columns, read from the MovieLens stand-in: customer, product,
        // ts, the product's name and the customer's age; products with their name and genres.
        List<Row> purchases = new ArrayList<>();
        SplittableRandom rng = new SplittableRandom(5);
        for (String line : Files.readAllLines(movieLens.resolve("u.data"))) {
            String[] f = line.split("\t");
            int movie = Integer.parseInt(f[1]);
            purchases.add(RowFactory.create("c" + f[0], "p" + movie, Long.parseLong(f[3]),
                    SyntheticMovieLens.title(movie), 18.0 + Integer.parseInt(f[0]) % 50));
        }
        spark.createDataFrame(purchases, new StructType().add("customer", DataTypes.StringType)
                        .add("product", DataTypes.StringType).add("ts", DataTypes.LongType)
                        .add("name", DataTypes.StringType).add("age", DataTypes.DoubleType))
                .write().parquet(warehouse.resolve("purchases").toString());
        List<Row> products = new ArrayList<>();
        for (int m = 1; m <= 200; m++) {
            products.add(RowFactory.create("p" + m, SyntheticMovieLens.title(m), rng.nextBoolean() ? "Drama" : "Comedy Drama"));
        }
        spark.createDataFrame(products, new StructType().add("product", DataTypes.StringType)
                        .add("name", DataTypes.StringType).add("genres", DataTypes.StringType))
                .write().parquet(warehouse.resolve("products").toString());
    }

    /** Each documented command runs here or is in NOT_RUN, and NOT_RUN lists only commands a page still shows. */
    @Test
    void everyCommandIsRunHereOrListedWithWhereItRuns() throws IOException {
        List<Command> commands = DocumentedCommands.all();
        assertTrue(commands.size() > 40, "the pages' commands were found: " + commands.size());
        List<String> unseen = new ArrayList<>();
        Set<String> documented = new HashSet<>();
        for (Command c : commands) {
            documented.add(c.text());
            if (!NOT_RUN.containsKey(c.text()) && !runsHere(c)) {
                unseen.add(c.where() + ": " + c.text());
            }
        }
        assertTrue(unseen.isEmpty(), "documented commands neither run by this test nor listed in NOT_RUN with the test"
                + " that runs them (or why none can):\n" + String.join("\n", unseen));
        Set<String> stale = new TreeSet<>(NOT_RUN.keySet());
        stale.removeAll(documented);
        assertTrue(stale.isEmpty(), "NOT_RUN lists commands no page shows any more:\n" + String.join("\n", stale));
    }

    /**
     * The experiment commands, too slow to run here (see NOT_RUN), still parse as the CLI parses them, and every
     * variant and split they name exists.
     */
    @Test
    void experimentCommandsParseWithKnownVariantsAndSplits() throws IOException {
        int checked = 0;
        for (Command c : DocumentedCommands.all()) {
            List<String> words = c.programWords();
            if (!c.program().equals(CLI) || words.size() < 2 || !words.get(1).equals("experiment")) {
                continue;
            }
            ParseResult experiment = new CommandLine(new Main()).parseArgs(words.subList(1, words.size())
                    .toArray(String[]::new)).subcommand();
            List<String> variants = experiment.matchedOptionValue("--variant", List.of());
            assertEquals(variants.size(), Variant.named(variants).size(), c.where());
            for (String split : experiment.<List<String>>matchedOptionValue("--split", List.of())) {
                assertTrue(ObjectiveExperiment.SPLITS.contains(split), c.where() + ": --split " + split);
            }
            checked++;
        }
        assertTrue(checked > 0, "the experiment commands were found");
    }

    /** The CLI's commands and the curl requests to a served model run here (unless listed in NOT_RUN). */
    private static boolean runsHere(Command c) {
        return !NOT_RUN.containsKey(c.text()) && (c.program().equals(CLI) || c.program().equals("curl"));
    }

    /** One test per block with CLI commands, named by its first command's page and line. */
    @TestFactory
    Stream<DynamicTest> everyDocumentedCliCommandRuns() throws IOException {
        Map<Integer, List<Command>> blocks = new LinkedHashMap<>();
        for (Command c : DocumentedCommands.all()) {
            if (runsHere(c)) {
                blocks.computeIfAbsent(c.block(), b -> new ArrayList<>()).add(c);
            }
        }
        return blocks.values().stream().map(block -> DynamicTest.dynamicTest(block.get(0).where(), () -> {
            Path dir = Files.createTempDirectory(shared, "block");
            runBlock(block, dir);
        }));
    }

    /** A block's commands in order; each serve with the block's curl lines to its port, then stopped. */
    private static void runBlock(List<Command> block, Path dir) throws Exception {
        Map<String, Path> paths = new HashMap<>();
        Set<Command> curlsSent = new HashSet<>();
        for (Command c : block) {
            if (c.program().equals("curl")) {
                continue; // sent by the serve they follow
            }
            List<String> args = arguments(c, paths, dir);
            if (args.get(0).equals("serve")) {
                serve(c, args, block, curlsSent);
                continue;
            }
            long t0 = System.nanoTime();
            InProcessCli.Result r = InProcessCli.run(args.toArray(String[]::new));
            String log = c.where() + ": " + c.text() + "\nran as: " + String.join(" ", args) + "\n" + tail(r.err());
            assertEquals(0, r.exitCode(), log);
            switch (args.get(0)) {
                case "recommend" -> assertTrue(r.out().contains("(movie "), log + "\nstdout:\n" + r.out());
                case "bench" -> assertTrue(r.out().lines().anyMatch(l -> l.startsWith("{\"bench\"")), log + "\nstdout:\n" + r.out());
                default -> { }
            }
            System.err.printf("%s: %.1f s%n", c.where(), (System.nanoTime() - t0) / 1e9);
        }
        for (Command c : block) {
            if (c.program().equals("curl") && !curlsSent.contains(c)) {
                fail(c.where() + ": " + c.text() + ": no serve command on its port in its block");
            }
        }
    }

    /** The command's CLI arguments as they run here (see the class's comment). */
    static List<String> arguments(Command c, Map<String, Path> paths, Path dir) throws IOException {
        List<String> args = new ArrayList<>();
        for (String w : c.programWords().subList(1, c.programWords().size())) {
            int eq = w.indexOf('=');
            if (w.startsWith("--") && eq > 0) {
                args.add(w.substring(0, eq));
                args.add(w.substring(eq + 1));
            } else {
                args.add(w);
            }
        }
        String command = args.get(0);
        List<String> defaults = PATH_DEFAULTS.getOrDefault(command, List.of());
        for (int i = 0; i < defaults.size(); i += 2) {
            if (!args.contains(defaults.get(i)) && !(command.equals("bench") && args.contains("--synthetic"))) {
                args.add(defaults.get(i));
                args.add(defaults.get(i + 1));
            }
        }
        for (Reduction r : REDUCTIONS) {
            if (!r.command().equals(command)) {
                continue;
            }
            int at = args.indexOf(r.option());
            if (r.documented() == null && at < 0) {
                args.add(r.option());
                args.add(r.run());
            } else if (at >= 0 && args.get(at + 1).equals(r.documented())) {
                args.set(at + 1, r.run());
            }
        }
        for (int i = 2; i < args.size(); i++) {
            String option = args.get(i - 1);
            String value = args.get(i);
            if (option.equals("--port")) {
                args.set(i, "0");
            } else if (value.contains("/") && !value.startsWith("http://") && !value.startsWith("https://")
                    || PATH_OPTIONS.contains(option) && !value.matches("\\d+")) {
                args.set(i, path(option, value, paths, dir).toString());
            }
        }
        return args;
    }

    /** Where a documented path is here: the generated data, a model trained first, or a folder of this block's. */
    private static Path path(String option, String value, Map<String, Path> paths, Path dir) throws IOException {
        if (paths.containsKey(value)) {
            return paths.get(value);
        }
        if (value.equals("data/ml-100k") || value.startsWith("data/ml-100k/")) {
            return movieLens.resolve(value.substring("data/ml-100k".length()).replaceFirst("^/", ""));
        }
        if (value.startsWith("conf/")) {
            return DocumentedCommands.ROOT.resolve(value);
        }
        if (value.startsWith("hdfs:///warehouse/")) {
            return warehouse.resolve(value.substring("hdfs:///warehouse/".length()));
        }
        String last = value.substring(value.lastIndexOf('/') + 1);
        if (value.contains("<run>") || option.equals("--model")) {
            return model(last.matches("\\d+(_\\d+)*") ? last : "32");
        }
        Path here = dir.resolve(value.replaceFirst("^[a-z]+://", "").replaceFirst("^/+", "").replaceAll("[<>:]", "_"));
        Files.createDirectories(here.getParent());
        paths.put(value, here);
        return here;
    }

    /** A model with the layers of {@code label} (e.g. 64_32), trained once for the blocks that serve or query one. */
    private static synchronized Path model(String label) {
        return MODELS.computeIfAbsent(label, l -> {
            Path out = shared.resolve("models").resolve(l);
            InProcessCli.Result r = InProcessCli.run("train", "--movielens", movieLens.toString(), "--layers",
                    l.replace('_', ','), "--epochs", "2", "--batch-size", "256", "--query-feature", "user_id:categorical",
                    "--query-feature", "timestamp:timestamp", "--query-feature", "recent=movie_id:history:50",
                    "--out", out.toString());
            assertEquals(0, r.exitCode(), "the model for " + l + ":\n" + tail(r.err()));
            return out;
        });
    }

    /** Starts a serve command, sends it the block's curl lines for its port and /health, and stops it. */
    private static void serve(Command c, List<String> args, List<Command> block, Set<Command> curlsSent) throws Exception {
        int at = c.programWords().indexOf("--port");
        String documentedPort = at < 0 ? "8080" : c.programWords().get(at + 1);
        long t0 = System.nanoTime();
        try (InProcessCli.Server server = InProcessCli.serve(3, TimeUnit.MINUTES, args.toArray(String[]::new))) {
            send(c, server.port(), "GET", "/health", null);
            for (Command curl : block) {
                if (curl.program().equals("curl") && curl.text().contains("127.0.0.1:" + documentedPort + "/")) {
                    curl(curl, server.port(), documentedPort);
                    curlsSent.add(curl);
                }
            }
            assertEquals(0, server.stop(), c.where() + ": serve's exit code");
        }
        System.err.printf("%s: %.1f s%n", c.where(), (System.nanoTime() - t0) / 1e9);
    }

    /** A documented curl line (-X METHOD, -d BODY, URL) sent to the server on {@code port}. */
    private static void curl(Command c, int port, String documentedPort) throws Exception {
        List<String> w = c.programWords();
        String method = null;
        String body = null;
        String url = null;
        for (int i = 1; i < w.size(); i++) {
            switch (w.get(i)) {
                case "-X" -> method = w.get(++i);
                case "-d", "--data" -> body = w.get(++i);
                default -> {
                    if (w.get(i).startsWith("-")) {
                        fail(c.where() + ": curl option " + w.get(i) + " is not known to this test");
                    }
                    url = w.get(i);
                }
            }
        }
        assertTrue(url != null, c.where() + ": no URL");
        String pathAndQuery = url.substring(url.indexOf("127.0.0.1:" + documentedPort) + ("127.0.0.1:" + documentedPort).length());
        JsonNode answer = send(c, port, method != null ? method : body != null ? "POST" : "GET", pathAndQuery, body);
        if (pathAndQuery.startsWith("/recommend")) {
            assertTrue(answer.get("recommendations").size() > 0, c.where() + ": " + answer);
        }
    }

    private static JsonNode send(Command c, int port, String method, String pathAndQuery, String body) throws Exception {
        HttpRequest.BodyPublisher publisher = body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body);
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + pathAndQuery))
                .method(method, publisher);
        if (body != null) {
            request.header("Content-Type", "application/x-www-form-urlencoded"); // what curl -d sends
        }
        HttpResponse<String> r = HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), c.where() + ": " + method + " " + pathAndQuery + ": " + r.body());
        return JSON.readTree(r.body());
    }

    /** A command's log for a failure message: its error lines, then its end. */
    private static String tail(String log) {
        String errors = String.join("\n", log.lines().filter(l -> l.startsWith("error:") || l.contains("Exception:")).limit(10).toList());
        return errors + "\n...\n" + (log.length() <= 6000 ? log : log.substring(log.length() - 6000));
    }
}
