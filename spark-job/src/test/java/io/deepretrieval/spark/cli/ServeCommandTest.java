package io.deepretrieval.spark.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.deepretrieval.spark.CliProcess;
import io.deepretrieval.spark.SyntheticMovieLens;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code serve}: argument errors are one clear line naming the option, a folder without a model is exit code 2
 * naming it, and a model folder and a PipelineModel folder holding it serve the same answers.
 */
class ServeCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern SERVING = Pattern.compile("serving \\S+ on http://[^:]+:(\\d+) ");

    private static String[] run(String... args) {
        CommandLine cli = Main.commandLine();
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args);
        return new String[]{Integer.toString(code), err.toString()};
    }

    @Test
    void badOptionsAreOneLineNamingTheOption(@TempDir Path tmp) {
        String model = tmp.toString();
        String[] index = run("serve", "--model", model, "--index", "fuzzy");
        assertEquals("2", index[0]);
        assertTrue(index[1].contains("--index must be exact or hnsw, got fuzzy"), index[1]);
        String[] port = run("serve", "--model", model, "--port", "70000");
        assertEquals("2", port[0]);
        assertTrue(port[1].contains("--port must be in 0..65535"), port[1]);
        String[] synthetic = run("serve", "--model", model, "--shutdown-delay", "-1");
        assertEquals("2", synthetic[0]);
        assertTrue(synthetic[1].contains("--shutdown-delay"), synthetic[1]);
    }

    @Test
    void aFolderWithoutAModelIsExitCode2NamingIt(@TempDir Path tmp) throws Exception {
        String[] missing = run("serve", "--model", tmp.resolve("none").toString());
        assertEquals("2", missing[0], missing[1]);
        assertTrue(missing[1].contains("error: " + tmp.resolve("none") + " does not exist"), missing[1]);
        Path bundle = Files.createDirectories(tmp.resolve("old-bundle"));
        Files.writeString(bundle.resolve("query_tower.sdz"), "");
        String[] old = run("serve", "--model", bundle.toString());
        assertEquals("2", old[0], old[1]);
        assertTrue(old[1].contains(bundle + " is not a saved Spark ML model") && old[1].contains("earlier build"), old[1]);
    }

    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void aModelFolderAndAPipelineFolderServeTheSameAnswers(@TempDir Path tmp) throws Exception {
        Path data = SyntheticMovieLens.write100k(tmp.resolve("ml"), 30, 60, 1500, 4);
        Path model = ModelFolders.trained(data, tmp.resolve("model"), 2);
        Path pipeline = ModelFolders.pipelineOf(model, tmp.resolve("pipeline"));
        Path modelLog = tmp.resolve("serve-model.log");
        Path pipelineLog = tmp.resolve("serve-pipeline.log");
        Process fromModel = CliProcess.start(modelLog, "serve", "--model", model.toString(), "--port", "0", "--threads", "2");
        Process fromPipeline = CliProcess.start(pipelineLog, "serve", "--model", pipeline.toString(), "--port", "0",
                "--threads", "2");
        try {
            int a = port(fromModel, modelLog);
            int b = port(fromPipeline, pipelineLog);
            for (String query : List.of("user=1&k=5", "user=7&k=20&exclude=1,7", "user=30&timestamp=883456789",
                    "user=no-such-user&k=3")) {
                JsonNode one = get(a, "/recommend?" + query);
                assertEquals(one, get(b, "/recommend?" + query), query);
                assertTrue(one.get("recommendations").size() > 0, one.toString());
            }
            JsonNode metadata = get(a, "/metadata");
            assertEquals(metadata, get(b, "/metadata"));
            assertEquals(60, metadata.get("candidates").asInt(), metadata.toString());
            assertEquals("io.deepretrieval.spark.ml.TwoTowerRetrievalModel", metadata.get("model").get("class").asText());
        } finally {
            fromModel.destroy(); // SIGTERM: the server's graceful stop
            fromPipeline.destroy();
            fromModel.waitFor(30, TimeUnit.SECONDS);
            fromPipeline.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void aModelRootServesTheNewestVersionRefusesABrokenOneAndSwapsInANewerOne(@TempDir Path tmp) throws Exception {
        Path data = SyntheticMovieLens.write100k(tmp.resolve("ml"), 30, 60, 1500, 4);
        Path root = Files.createDirectories(tmp.resolve("models"));
        Path one = ModelFolders.trained(data, root.resolve("1"), 1);
        Path log = tmp.resolve("serve-root.log");
        Process serve = CliProcess.start(log, "serve", "--model-root", root.toString(), "--poll-seconds", "1",
                "--port", "0", "--threads", "2");
        try {
            int port = port(serve, log);
            assertEquals(1, get(port, "/metadata").get("version").asLong());
            JsonNode before = get(port, "/recommend?user=1&k=5");

            // A broken version 2 (published whole, by a rename, as versions should be) is refused; 1 keeps serving.
            Path staging = Files.createDirectories(tmp.resolve("staging2/metadata"));
            Files.writeString(staging.resolve("part-00000"), "not a model");
            Files.move(staging.getParent(), root.resolve("2"), StandardCopyOption.ATOMIC_MOVE);
            awaitLog(serve, log, "version 2 (" + root.resolve("2") + ") refused");
            assertEquals(1, get(port, "/metadata").get("version").asLong());
            assertEquals(before.get("recommendations"), get(port, "/recommend?user=1&k=5").get("recommendations"));

            // Version 3, a copy of version 1, is loaded, warmed and swapped in.
            Path copy = tmp.resolve("staging3");
            try (Stream<Path> files = Files.walk(one)) {
                for (Path f : files.toList()) {
                    Files.copy(f, copy.resolve(one.relativize(f).toString()));
                }
            }
            Files.move(copy, root.resolve("3"), StandardCopyOption.ATOMIC_MOVE);
            awaitLog(serve, log, "version 3 (was 1)");
            JsonNode after = get(port, "/recommend?user=1&k=5");
            assertEquals(3, after.get("version").asLong());
            assertEquals(before.get("recommendations"), after.get("recommendations"), "the same model, the same answers");
        } finally {
            serve.destroy();
            serve.waitFor(30, TimeUnit.SECONDS);
        }
    }

    /** Waits until a {@code serve} child's log holds {@code text}. */
    private static void awaitLog(Process p, Path log, String text) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (!CliProcess.read(log).contains(text)) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                fail("no '" + text + "' in the log:\n" + CliProcess.read(log));
            }
            Thread.sleep(200);
        }
    }

    /** The port a {@code serve} child listens on, from its log line, once it serves. */
    private static int port(Process p, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (System.nanoTime() < deadline) {
            Matcher m = SERVING.matcher(CliProcess.read(log));
            if (m.find()) {
                return Integer.parseInt(m.group(1));
            }
            if (!p.isAlive()) {
                fail("serve exited with " + p.exitValue() + ":\n" + CliProcess.read(log));
            }
            Thread.sleep(200);
        }
        return fail("serve did not start:\n" + CliProcess.read(log));
    }

    private static JsonNode get(int port, String pathAndQuery) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + pathAndQuery)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), pathAndQuery + ": " + r.body());
        return JSON.readTree(r.body());
    }
}
