package io.deepretrieval.spark.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.deepretrieval.spark.SyntheticMovieLens;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real Spark standalone cluster on separate hosts: a master, two workers and the driver each in its own network
 * namespace with its own address and its own folder at one common path ({@link NetworkHosts}), the packaged app jar
 * submitted through {@code SparkSubmit} from the driver's host (the executors fetch it over the network), and one
 * executor JVM killed in the middle of training. The input is copied to every host (as a {@code file:} path on a
 * cluster needs); the results exist only on the driver's host.
 */
class StandaloneClusterIT {
    private static final List<Process> STARTED = new ArrayList<>();
    private static final List<String> HOSTS = List.of("master", "worker1", "worker2", "driver");
    private static Path home;
    private static Path sparkHome;
    private static Path shared;
    private static NetworkHosts hosts;
    private static String masterUrl;

    @BeforeAll
    static void startCluster() throws Exception {
        String why = NetworkHosts.unavailable();
        if (why != null) {
            if ("true".equals(System.getenv("CI"))) {
                throw new AssertionError("StandaloneClusterIT: " + why);
            }
            Assumptions.abort("StandaloneClusterIT skipped: " + why);
        }
        home = Files.createTempDirectory("dr-cluster");
        sparkHome = SparkHome.create(home.resolve("spark"), Path.of(System.getProperty("spark.classpath.file")));
        shared = home.resolve("host"); // each host sees its own folder here
        hosts = new NetworkHosts(home.resolve("hosts"), shared, HOSTS);
        String master = hosts.address("master");
        masterUrl = "spark://" + master + ":7077";
        Process m = start("master", "master", List.of("org.apache.spark.deploy.master.Master", "--host", master,
                "--port", "7077", "--webui-port", "8080"));
        awaitLog(home.resolve("master.log"), "I have been elected leader", m);
        for (String worker : List.of("worker1", "worker2")) {
            Process w = start(worker, worker, List.of("org.apache.spark.deploy.worker.Worker", "--host",
                    hosts.address(worker), "--cores", "1", "--memory", "3g", "--work-dir", shared.resolve("work").toString(),
                    "--webui-port", "8081", masterUrl));
            awaitLog(home.resolve(worker + ".log"), "Successfully registered with master", w);
        }
    }

    @AfterAll
    static void stopCluster() throws Exception {
        for (Process p : STARTED) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        for (Process p : STARTED) {
            p.waitFor(30, TimeUnit.SECONDS);
        }
        if (home == null) {
            return; // skipped
        }
        // Executors are children of the workers; nothing that ran from our folder may be left.
        long leftovers = ProcessHandle.allProcesses().filter(StandaloneClusterIT::ours).count();
        if (hosts != null) {
            hosts.close();
        }
        assertEquals(0, leftovers, "JVMs left behind");
        try (Stream<Path> all = Files.walk(home)) {
            all.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void submittedSweepSurvivesALostExecutorAndWritesCompleteResults() throws Exception {
        // The same input on every host that reads it; the app jar only where the driver runs.
        Path written = SyntheticMovieLens.write100k(home.resolve("ml"), 200, 300, 40_000, 3);
        for (String host : List.of("driver", "worker1", "worker2")) {
            Path copy = Files.createDirectories(hosts.dir(host).resolve("ml"));
            try (Stream<Path> files = Files.list(written)) {
                for (Path f : files.toList()) {
                    Files.copy(f, copy.resolve(f.getFileName()));
                }
            }
        }
        Files.createSymbolicLink(hosts.dir("driver").resolve("app.jar"), Path.of(System.getProperty("app.jar")));
        Path data = shared.resolve("ml");
        Path out = shared.resolve("results");
        Process submit = start("submit", "driver", List.of("org.apache.spark.deploy.SparkSubmit",
                "--master", masterUrl, "--deploy-mode", "client",
                "--class", "io.deepretrieval.spark.cli.Main",
                "--conf", "spark.driver.host=" + hosts.address("driver"),
                "--conf", "spark.executor.memory=1200m",
                "--conf", "spark.executor.extraJavaOptions=" + System.getProperty("java17.opens")
                        + " -Dlog4j2.configurationFile=" + sparkHome.resolve("conf/log4j2.properties"),
                "--conf", "spark.executorEnv.OMP_WAIT_POLICY=PASSIVE",
                "--conf", "spark.task.maxFailures=4",
                shared.resolve("app.jar").toString(),
                "sweep", "--no-baseline", "--data", data.toString(), "--out", out.toString(), "--name", "cluster",
                "--epochs", "4", "--layers", "16", "--workers", "2", "--batch-size-per-worker", "256",
                "--averaging-frequency", "2"));
        Path log = home.resolve("submit.log");
        // Both replicas are built, training is under way: kill one executor JVM in the middle of a round.
        awaitLog(log, "[16] epoch 1/4", submit);
        List<ProcessHandle> executors = ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().orElse("").contains("CoarseGrainedExecutorBackend"))
                .filter(StandaloneClusterIT::ours).toList();
        assertEquals(2, executors.size(), () -> "one executor per worker expected\n" + logs());
        executors.get(0).destroyForcibly();

        assertTrue(submit.waitFor(8, TimeUnit.MINUTES), () -> "the job did not finish in 8 minutes\n" + logs());
        String text = Files.readString(log);
        assertEquals(0, submit.exitValue(), () -> logs());
        Path results = hosts.dir("driver").resolve("results");
        Path dir = results.resolve("cluster");
        assertFalse(Files.exists(results.resolve("cluster.incomplete")));
        for (String host : List.of("master", "worker1", "worker2")) {
            assertFalse(Files.exists(hosts.dir(host).resolve("results")), "results written on " + host);
        }
        List<String> csv = Files.readAllLines(dir.resolve("curve_16.csv"));
        assertEquals(List.of("4"), csv.stream().skip(1).map(l -> l.split(",")[0]).toList(), String.join("\n", csv));
        JsonNode summary = new ObjectMapper().readTree(dir.resolve("summary.json").toFile());
        assertEquals("completed", summary.get(0).get("status").asText());
        assertTrue(summary.get(0).get("accuracy").get("top100").asDouble() > 0.5, summary.toString());
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                assertFalse(f.getFileName().toString().endsWith(".tmp"), "half-written file " + f);
                if (f.toString().endsWith(".json")) {
                    new ObjectMapper().readTree(f.toFile()); // parses: complete
                }
            }
        }
        assertTrue(text.contains("Parameter averaging: 2 workers"), text);
        // The workers registered from their own addresses, not loopback.
        String masterLog = Files.readString(home.resolve("master.log"));
        for (String worker : List.of("worker1", "worker2")) {
            assertTrue(masterLog.contains("Registering worker " + hosts.address(worker) + ":"), masterLog);
        }
    }

    /** Every log of the cluster's processes, for failure messages. */
    private static String logs() {
        StringBuilder sb = new StringBuilder();
        for (String name : List.of("submit", "master", "worker1", "worker2")) {
            sb.append("---- ").append(name).append(".log\n")
                    .append(io.deepretrieval.spark.CliProcess.read(home.resolve(name + ".log"))).append('\n');
        }
        return sb.toString();
    }

    private static boolean ours(ProcessHandle p) {
        return p.info().commandLine().orElse("").contains(home.toString());
    }

    /** Starts a JVM on {@code host} (see {@link NetworkHosts#command}), its output in {@code home/<name>.log}. */
    private static Process start(String name, String host, List<String> mainAndArgs) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-cp", sparkHome.resolve("jars") + "/*", "-Ddr.cluster.home=" + home,
                "-Dlog4j2.configurationFile=" + sparkHome.resolve("conf/log4j2.properties")));
        cmd.addAll(Arrays.asList(System.getProperty("java17.opens").split("\\s+")));
        cmd.addAll(mainAndArgs);
        ProcessBuilder pb = new ProcessBuilder(hosts.command(host, cmd)).redirectErrorStream(true)
                .redirectOutput(home.resolve(name + ".log").toFile());
        pb.environment().put("SPARK_HOME", sparkHome.toString());
        pb.environment().put("SPARK_SCALA_VERSION", "2.12");
        pb.environment().put("SPARK_LOCAL_IP", hosts.address(host));
        pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        Process p = pb.start();
        STARTED.add(p);
        return p;
    }

    private static void awaitLog(Path log, String line, Process process) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
        while (System.nanoTime() < deadline) {
            if (Files.exists(log) && Files.readString(log).contains(line)) {
                return;
            }
            if (!process.isAlive()) {
                throw new AssertionError("process ended before '" + line + "':\n" + Files.readString(log));
            }
            Thread.sleep(250);
        }
        throw new AssertionError("timed out waiting for '" + line + "' in " + log + ":\n" + Files.readString(log));
    }
}
