package io.deepretrieval.spark.docker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.deepretrieval.spark.SyntheticMovieLens;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CPU compose cluster for real: builds the image (docker/base-image.sh for the local Debian base, then
 * {@code docker-compose build}), starts the master and two workers from docker/docker-compose.cpu.yml, runs the
 * submit service's driver on a small generated MovieLens-format set mounted as a volume, kills one worker
 * container in the middle of training and checks that the sweep still completes with curves, summary and saved
 * models on the host, that no container process runs as root, and that the GPU workers' compatibility check is
 * wired in the entrypoint (a recorded H200 answer of nvidia-smi). Containers, networks and volumes are removed
 * even when a check fails; a failure carries the containers' logs.
 *
 * <p>Needs a Docker engine (DOCKER_HOST, or docker/engine.sh's), docker-compose and, for a missing base image,
 * root and debootstrap. Without an engine it is skipped locally and fails in CI (env CI=true or
 * -Ddr.docker.required=true, which .ci/run passes).
 */
class ComposeClusterIT {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final String COMPOSE_FILE = "docker/docker-compose.cpu.yml";
    private static final String IMAGE = "deep-retrieval:cpu";
    private static final String BASE_IMAGE = "local/debian:bookworm";
    private static final int EPOCHS = 4;

    private final String project = "drit" + Long.toHexString(System.nanoTime() & 0xffffff);
    private final Map<String, String> env = new HashMap<>();
    private Path home;

    @Test
    @Timeout(value = 15, unit = TimeUnit.MINUTES)
    void composeClusterTrainsThroughALostWorkerAsNonRootAndCleansUp() throws Exception {
        String dockerHost = engine();
        if (dockerHost == null) {
            String why = "no Docker engine answers (DOCKER_HOST, docker/engine.sh status, /var/run/docker.sock): "
                    + "start one with eval \"$(docker/engine.sh start)\"";
            if (required()) {
                throw new AssertionError(why + " -- required in CI (CI=true or -Ddr.docker.required=true)");
            }
            System.err.println("ComposeClusterIT skipped: " + why);
            Assumptions.abort("ComposeClusterIT skipped: " + why);
        }
        env.put("DOCKER_HOST", dockerHost);
        env.put("DOCKER_BUILDKIT", "0"); // the classic builder: the preinstalled client has no buildx
        env.put("COMPOSE_DOCKER_CLI_BUILD", "0");
        if (execAny(List.of("docker", "image", "inspect", BASE_IMAGE), 1).rc != 0
                && !"root".equals(System.getProperty("user.name"))) {
            String why = BASE_IMAGE + " is missing and making it (docker/base-image.sh: debootstrap) needs root";
            if (required()) {
                throw new AssertionError(why + " -- .ci/run makes it before the build");
            }
            System.err.println("ComposeClusterIT skipped: " + why + "; run sudo docker/base-image.sh");
            Assumptions.abort("ComposeClusterIT skipped: " + why + "; run sudo docker/base-image.sh");
        }
        home = Files.createTempDirectory("dr-compose");
        try {
            run();
        } catch (Throwable t) {
            throw new AssertionError(t.getMessage() + "\n---- container logs ----\n" + logs(), t);
        } finally {
            tearDown();
        }
    }

    private void run() throws Exception {
        long t0 = System.nanoTime();
        exec(List.of("bash", ROOT.resolve("docker/base-image.sh").toString(), BASE_IMAGE), 5);
        long t1 = System.nanoTime();
        exec(compose("build"), 10);
        long t2 = System.nanoTime();
        gpuCheckIsWiredIntoTheWorkerEntrypoint();
        long gpuChecked = System.nanoTime();

        // The data (read by the driver only) and the results folder, open to the image's non-root user.
        open(home);
        Path data = SyntheticMovieLens.write100k(home.resolve("ml"), 200, 300, 40_000, 3);
        open(data);
        Path results = Files.createDirectories(home.resolve("results"));
        Files.setPosixFilePermissions(results, PosixFilePermissions.fromString("rwxrwxrwx"));
        env.put("DR_DATA", data.toString());
        env.put("DR_RESULTS", results.toString());
        env.put("MASTER_UI_PORT", String.valueOf(freePort()));
        env.put("WORKER_CORES", "1");
        env.put("WORKER_MEMORY", "2g");
        env.put("DRIVER_MEMORY", "1g");
        env.put("EXECUTOR_MEMORY", "1200m");
        env.put("EXECUTOR_OVERHEAD", "512m");

        long up = System.nanoTime();
        exec(compose("up", "-d", "--scale", "worker=2", "master", "worker"), 3);
        List<String> workers = service("worker");
        assertEquals(2, workers.size(), "two worker containers: " + workers);
        String master = service("master").get(0);
        awaitLog(master, "I have been elected leader", 3);
        for (String w : workers) {
            awaitLog(w, "Successfully registered with master", 3);
        }
        long t3 = System.nanoTime();

        Path submitLog = home.resolve("submit.log");
        List<String> submitCmd = new ArrayList<>(compose("run", "-T", "--name", project + "_submit", "submit",
                "submit", "--no-baseline", "--name", "compose", "--epochs", String.valueOf(EPOCHS), "--layers", "16",
                "--batch-size-per-worker", "256", "--averaging-frequency", "2"));
        ProcessBuilder pb = new ProcessBuilder(submitCmd).directory(ROOT.toFile()).redirectErrorStream(true)
                .redirectOutput(submitLog.toFile());
        pb.environment().putAll(env);
        Process submit = pb.start();
        long killed = 0;
        try {
            // Both replicas are built and training is under way: check users, then kill one worker container.
            awaitFile(submitLog, "[16] epoch 1/" + EPOCHS, submit, 5);
            for (String id : projectContainers()) {
                List<String> top = lines(docker("top", id, "-eo", "uid,pid,args"));
                assertTrue(top.size() > 1, "no processes listed for " + id + ": " + top);
                for (String line : top.subList(1, top.size())) {
                    assertFalse(line.strip().startsWith("0 "), "a process runs as root in " + id + ": " + line);
                }
                assertEquals("spark", docker("inspect", "-f", "{{.Config.User}}", id).strip(), id);
            }
            docker("kill", workers.get(1));
            killed = System.nanoTime();
            assertTrue(submit.waitFor(8, TimeUnit.MINUTES), "the job did not finish");
        } finally {
            submit.destroyForcibly();
        }
        long t4 = System.nanoTime();
        String text = Files.readString(submitLog);
        Files.writeString(ROOT.resolve("spark-job/target/compose-cluster-it-submit.log"), text);
        assertEquals(0, submit.exitValue(), "submit exit status; its output:\n" + text);
        assertTrue(text.contains("Parameter averaging: 2 workers"), text);
        assertTrue(text.contains("Lost executor"), "the killed worker's executor was not lost during the job:\n" + text);

        Path dir = results.resolve("compose");
        assertFalse(Files.exists(results.resolve("compose.incomplete")));
        List<String> csv = Files.readAllLines(dir.resolve("curve_16.csv"));
        assertEquals(List.of(String.valueOf(EPOCHS)), csv.stream().skip(1).map(l -> l.split(",")[0]).toList(),
                String.join("\n", csv));
        JsonNode summary = new ObjectMapper().readTree(dir.resolve("summary.json").toFile());
        assertEquals("completed", summary.get(0).get("status").asText(), summary.toString());
        assertTrue(Files.size(dir.resolve("models/16/data/model.json")) > 0, "saved model settings");
        assertTrue(Files.size(dir.resolve("models/16/metadata/part-00000")) > 0, "saved Spark ML metadata, written by the driver");
        try (Stream<Path> model = Files.list(dir.resolve("models/16"))) {
            assertTrue(model.count() > 1, "saved model files");
        }

        long t5 = System.nanoTime();
        serveRoleAnswersFromAReadOnlyModelRoot(dir.resolve("models/16"));
        long t6 = System.nanoTime();

        String figures = String.format("ComposeClusterIT: base image %.1f s, compose build %.1f s, GPU wiring checks %.1f s, image %d MB, "
                        + "cluster running %.1f s after up, sweep (%d epochs, [16], 2 workers, one killed %.1f s in) %.1f s, "
                        + "serve role healthy and answering %.1f s",
                secs(t1 - t0), secs(t2 - t1), secs(gpuChecked - t2), Long.parseLong(docker("image", "inspect", "-f", "{{.Size}}", IMAGE).strip()) / 1_000_000,
                secs(t3 - up), EPOCHS, secs(killed - t3), secs(t4 - t3), secs(t6 - t5));
        System.out.println(figures);
        Files.writeString(ROOT.resolve("spark-job/target/compose-cluster-it.txt"), figures + "\n");
    }

    /**
     * The serve role: the model the sweep just saved, as version 1 of a model root mounted read-only, is loaded by
     * the non-root server, which turns healthy (the compose health check) and answers on the published port.
     */
    private void serveRoleAnswersFromAReadOnlyModelRoot(Path model) throws Exception {
        Path root = Files.createDirectories(home.resolve("models"));
        Path version = root.resolve("1");
        try (Stream<Path> files = Files.walk(model)) {
            for (Path f : files.toList()) {
                Files.copy(f, version.resolve(model.relativize(f).toString()));
            }
        }
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.toList()) {
                open(f);
            }
        }
        int port = freePort();
        env.put("DR_MODELS", root.toString());
        env.put("SERVE_PORT", String.valueOf(port));
        exec(compose("up", "-d", "serve"), 3);
        String id = service("serve").get(0);
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
        String health = "";
        while (System.nanoTime() < deadline && !health.equals("healthy")) {
            Thread.sleep(1000);
            health = docker("inspect", "-f", "{{.State.Health.Status}}", id).strip();
        }
        assertEquals("healthy", health, "the serve container's health check; its log:\n" + docker("logs", id));
        assertEquals("spark", docker("inspect", "-f", "{{.Config.User}}", id).strip());
        assertEquals("false", docker("inspect", "-f", "{{range .Mounts}}{{.RW}}{{end}}", id).strip(), "the model root is read-only");
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/recommend?user=1&k=5")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        JsonNode body = new ObjectMapper().readTree(r.body());
        assertEquals(1, body.get("version").asLong(), r.body());
        assertEquals(5, body.get("recommendations").size(), r.body());
    }

    /** A GPU worker whose nvidia-smi reports an H200: prefer starts it on ND4J's CPU backend, require stops it. */
    private void gpuCheckIsWiredIntoTheWorkerEntrypoint() throws Exception {
        Path smi = home.resolve("nvidia-smi");
        Files.writeString(smi, "#!/bin/sh\n# recorded from an H200 machine\ncase \"$*\" in\n"
                + "  *compute_cap*) echo 'NVIDIA H200, 9.0' ;;\n  *) echo 0 ;;\nesac\n");
        Files.setPosixFilePermissions(smi, PosixFilePermissions.fromString("rwxr-xr-x"));
        open(home);
        String mount = smi + ":/usr/local/bin/nvidia-smi:ro";
        Result require = execAny(List.of("docker", "run", "--rm", "-e", "GPU_POLICY=require", "-v", mount, IMAGE, "worker"), 2);
        assertEquals(1, require.rc, require.out);
        assertTrue(require.out.contains("ERROR GpuCompatibility: ND4J nd4j-cuda-11.6 1.0.0-M2.1 cannot drive NVIDIA H200 "
                + "(compute capability 9.0)"), require.out);
        String id = docker("run", "-d", "--label", "com.docker.compose.project=" + project, "-e", "GPU_POLICY=prefer",
                "-e", "SPARK_MASTER_URL=spark://127.0.0.1:7077", "-v", mount, IMAGE, "worker").strip();
        awaitLog(id, "Starting Spark worker", 2);
        String out = docker("logs", id);
        assertTrue(out.contains("WARN GpuCompatibility: ND4J nd4j-cuda-11.6 1.0.0-M2.1 cannot drive NVIDIA H200"), out);
        String environ = docker("exec", id, "sh", "-c", "tr '\\0' '\\n' < /proc/$(pgrep -x java)/environ");
        assertTrue(environ.contains("BACKEND_PRIORITY_CPU=1000"), environ);
        docker("rm", "-f", id);
    }

    private void tearDown() {
        List<String> problems = new ArrayList<>();
        try {
            Result down = execAny(compose("down", "-v", "--remove-orphans", "-t", "5"), 3);
            if (down.rc != 0) {
                problems.add("docker-compose down: " + down.out);
            }
            // one-off and stray containers, networks and volumes carrying the project's label
            for (String kind : List.of("container", "network", "volume")) {
                for (String id : lines(docker(kind, "ls", "-q", kind.equals("container") ? "-a" : "-q",
                        "--filter", "label=com.docker.compose.project=" + project))) {
                    execAny(List.of("docker", kind, "rm", "-f", id), 1);
                }
            }
            for (String kind : List.of("container", "network", "volume")) {
                List<String> left = lines(docker(kind, "ls", "-q", kind.equals("container") ? "-a" : "-q",
                        "--filter", "label=com.docker.compose.project=" + project));
                if (!left.isEmpty()) {
                    problems.add(kind + "s left: " + left);
                }
            }
        } catch (Exception e) {
            problems.add(e.toString());
        }
        try {
            deleteTree(home);
        } catch (Exception e) {
            problems.add("temp folder " + home + ": " + e);
        }
        if (!problems.isEmpty()) {
            throw new AssertionError("teardown: " + String.join("; ", problems));
        }
    }

    private void deleteTree(Path dir) throws Exception {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            all.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
        if (Files.exists(dir)) {
            // Results written by the containers' user (uid 1001) in folders of its own: remove them as root inside
            // a container when this test does not run as root.
            execAny(List.of("docker", "run", "--rm", "--user", "0", "--entrypoint", "rm", "-v", dir + ":/x", IMAGE,
                    "-rf", "/x/results"), 1);
            try (Stream<Path> all = Files.walk(dir)) {
                all.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    private String logs() {
        StringBuilder b = new StringBuilder();
        try {
            b.append(execAny(compose("logs", "--no-color", "--tail", "200"), 1).out);
            Path submitLog = home.resolve("submit.log");
            if (Files.exists(submitLog)) {
                b.append("\n---- submit (driver) ----\n").append(Files.readString(submitLog));
            }
        } catch (Exception e) {
            b.append("(logs unavailable: ").append(e).append(')');
        }
        return b.toString();
    }

    private List<String> service(String name) throws Exception {
        return lines(docker("ps", "-q", "--filter", "label=com.docker.compose.project=" + project,
                "--filter", "label=com.docker.compose.service=" + name));
    }

    private List<String> projectContainers() throws Exception {
        return lines(docker("ps", "-q", "--filter", "label=com.docker.compose.project=" + project));
    }

    private List<String> compose(String... args) {
        List<String> cmd = new ArrayList<>(List.of("docker-compose", "-f", COMPOSE_FILE, "-p", project, "--ansi", "never"));
        cmd.addAll(Arrays.asList(args));
        return cmd;
    }

    private String docker(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("docker"));
        cmd.addAll(Arrays.asList(args));
        return exec(cmd, 2);
    }

    private record Result(int rc, String out) {
    }

    private String exec(List<String> cmd, int minutes) throws Exception {
        Result r = execAny(cmd, minutes);
        if (r.rc != 0) {
            throw new AssertionError(String.join(" ", cmd) + " exited " + r.rc + ":\n" + r.out);
        }
        return r.out;
    }

    /** Runs a command from the repository root with the engine's environment; stdout and stderr together. */
    private Result execAny(List<String> cmd, int minutes) throws Exception {
        Path out = Files.createTempFile("dr-cmd", ".log");
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(ROOT.toFile()).redirectErrorStream(true)
                    .redirectOutput(out.toFile());
            pb.environment().putAll(env);
            Process p = pb.start();
            if (!p.waitFor(minutes, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", cmd) + " did not finish in " + minutes + " min:\n"
                        + Files.readString(out));
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private void awaitLog(String container, String line, int minutes) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(minutes);
        String out = "";
        while (System.nanoTime() < deadline) {
            out = execAny(List.of("docker", "logs", container), 1).out;
            if (out.contains(line)) {
                return;
            }
            String state = docker("inspect", "-f", "{{.State.Status}}", container).strip();
            if (!state.equals("running")) {
                throw new AssertionError("container " + container + " is " + state + " before '" + line + "':\n" + out);
            }
            Thread.sleep(500);
        }
        throw new AssertionError("timed out waiting for '" + line + "' in container " + container + ":\n" + out);
    }

    private static void awaitFile(Path log, String line, Process process, int minutes) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(minutes);
        while (System.nanoTime() < deadline) {
            if (Files.exists(log) && Files.readString(log).contains(line)) {
                return;
            }
            if (!process.isAlive()) {
                throw new AssertionError("the driver ended (exit " + process.exitValue() + ") before '" + line + "'");
            }
            Thread.sleep(250);
        }
        throw new AssertionError("timed out waiting for '" + line + "' in the driver's output");
    }

    /** The engine to use: DOCKER_HOST, then the one docker/engine.sh started, then the default socket; or null. */
    private static String engine() throws Exception {
        List<String> candidates = new ArrayList<>();
        if (System.getenv("DOCKER_HOST") != null) {
            candidates.add(System.getenv("DOCKER_HOST"));
        }
        candidates.add("unix:///var/tmp/deep-retrieval-docker/docker.sock");
        candidates.add("unix:///var/run/docker.sock");
        for (String host : candidates) {
            try {
                ProcessBuilder pb = new ProcessBuilder("docker", "version", "--format", "{{.Server.Version}}")
                        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
                pb.environment().put("DOCKER_HOST", host);
                Process p = pb.start();
                if (p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0) {
                    return host;
                }
                p.destroyForcibly();
            } catch (IOException e) {
                return null; // no docker client at all
            }
        }
        return null;
    }

    private static boolean required() {
        return "true".equalsIgnoreCase(System.getenv("CI")) || Boolean.getBoolean("dr.docker.required");
    }

    private static void open(Path p) throws IOException {
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private static List<String> lines(String text) {
        return text.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
    }

    private static double secs(long nanos) {
        return nanos / 1e9;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
