package io.deepretrieval.spark.docker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Lints what can be checked without a Docker engine or a GPU: the compose files parse and wire the roles and GPUs
 * as documented, the Dockerfile builds from the build output only (its layers in order, its user not root), every
 * path it copies exists, the entrypoint starts Spark's own classes with the pom's Java 17 opens, and the scripts
 * are valid shell. Runs after packaging, so the jars the image copies must exist. ComposeClusterIT runs the image.
 */
class DockerAssetsIT {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path DOCKER = ROOT.resolve("docker");
    private final ObjectMapper yaml = new ObjectMapper(new YAMLFactory());

    private JsonNode compose(String name) throws IOException {
        return yaml.readTree(DOCKER.resolve(name).toFile());
    }

    @Test
    void gpuComposeReservesOneNvidiaGpuPerWorkerAndMountsDataAndResults() throws IOException {
        JsonNode services = compose("docker-compose.yml").get("services");
        assertEquals(Set.of("master", "worker", "submit"), fieldNames(services));
        JsonNode device = services.at("/worker/deploy/resources/reservations/devices/0");
        assertEquals("nvidia", device.get("driver").asText());
        assertEquals(1, device.get("count").asInt());
        assertEquals("gpu", device.get("capabilities").get(0).asText());
        assertTrue(services.at("/submit/volumes").toString().contains(":/results"), services.toString());
        assertEquals("1", services.at("/submit/environment/EXECUTOR_GPUS").asText());
        assertEquals("nvidia/cuda:11.6.2-cudnn8-runtime-ubuntu20.04", services.at("/master/build/args/BASE_IMAGE").asText());
        assertEquals("${GPU_POLICY:-prefer}", services.at("/worker/environment/GPU_POLICY").asText());
        checkWiring(services);
    }

    @Test
    void cpuComposeRunsTheSameClusterWithoutGpus() throws IOException {
        JsonNode services = compose("docker-compose.cpu.yml").get("services");
        assertEquals(Set.of("master", "worker", "submit", "serve"), fieldNames(services));
        assertFalse(services.toString().contains("nvidia"), services.toString());
        // The model server: only when named, the model root read-only, ready by its health check.
        assertEquals("serve", services.at("/serve/profiles/0").asText());
        assertTrue(services.at("/serve/volumes/0").asText().endsWith(":/models:ro"), services.get("serve").toString());
        assertTrue(services.at("/serve/healthcheck/test").toString().contains("/health/ready"), services.get("serve").toString());
        assertEquals("0", services.at("/worker/environment/WORKER_GPUS").asText());
        assertEquals("0", services.at("/submit/environment/EXECUTOR_GPUS").asText());
        assertEquals("local/debian:bookworm", services.at("/master/build/args/BASE_IMAGE").asText());
        checkWiring(services);
    }

    /** Build contexts and Dockerfiles exist; every command is a role the entrypoint knows. */
    private void checkWiring(JsonNode services) throws IOException {
        String entrypoint = Files.readString(DOCKER.resolve("entrypoint.sh"));
        for (String name : fieldNames(services)) {
            JsonNode s = services.get(name);
            if (s.has("build")) {
                Path context = DOCKER.resolve(s.at("/build/context").asText()).normalize();
                assertTrue(Files.isDirectory(context), "build context " + context);
                assertTrue(Files.isRegularFile(context.resolve(s.at("/build/dockerfile").asText())));
            }
            String role = s.get("command").get(0).asText();
            assertTrue(entrypoint.contains("\n  " + role + ")"), "entrypoint has no role " + role);
            for (JsonNode v : s.path("volumes")) {
                // "${VAR:-default}:/path": the test sets VAR; the default is relative to docker/
                String source = v.asText().replaceFirst("^\\$\\{[A-Z_]+:-([^}]*)\\}", "$1");
                assertTrue(source.startsWith("../"), "volumes are relative to docker/: " + v);
            }
        }
        // Executors read the ratings too: workers mount the data where the driver does.
        assertTrue(services.at("/worker/volumes").toString().contains(":/data:ro"), services.toString());
        assertTrue(services.at("/submit/volumes").toString().contains(":/data:ro"), services.toString());
    }

    @Test
    void dockerfileBuildsFromTheBuildOutputWithTheAppLayerLastAndANonRootUser() throws IOException {
        String dockerfile = Files.readString(DOCKER.resolve("Dockerfile"));
        List<String> copied = new ArrayList<>();
        List<Integer> layerOf = new ArrayList<>();
        int layer = 0;
        Matcher m = Pattern.compile("(?m)^COPY\\s+(.+)\\s+(\\S+)$").matcher(dockerfile);
        while (m.find()) {
            layer++;
            for (String source : m.group(1).trim().split("\\s+")) {
                if (source.startsWith("--")) {
                    continue;
                }
                copied.add(source);
                layerOf.add(layer);
                assertTrue(Files.exists(ROOT.resolve(source)), "COPY source missing: " + source);
            }
        }
        String lib = "spark-job/target/lib/";
        String version = System.getProperty("project.version");
        String app = "spark-job/target/deep-retrieval-spark-job-" + version + ".jar";
        String model = "model/target/deep-retrieval-model-" + version + ".jar";
        String library = "spark/target/deep-retrieval-spark_2.12-" + version + ".jar";
        assertTrue(copied.containsAll(List.of(lib, app, model, library, "conf/", "docker/entrypoint.sh")), copied.toString());
        // the dependency jars first, our own three jars together in the last layer
        assertEquals(1, Collections.frequency(copied, lib));
        assertTrue(layerOf.get(copied.indexOf(lib)) < layerOf.get(copied.indexOf(app)));
        assertEquals(layer, layerOf.get(copied.indexOf(app)));
        assertEquals(layer, layerOf.get(copied.indexOf(model)));
        assertEquals(layer, layerOf.get(copied.indexOf(library)));
        String[] jars = ROOT.resolve(lib).toFile().list();
        assertTrue(jars != null && jars.length > 0, "empty " + lib);
        // nothing downloaded but the base's packages; the base is a build argument
        for (String banned : List.of("curl", "wget", "archive.apache.org", "http://", "https://")) {
            assertFalse(dockerfile.lines().filter(l -> !l.startsWith("#")).anyMatch(l -> l.contains(banned)),
                    "Dockerfile downloads (" + banned + ")");
        }
        assertTrue(dockerfile.contains("FROM ${BASE_IMAGE}"), "FROM the BASE_IMAGE argument");
        assertTrue(dockerfile.contains("apt-get install -y --no-install-recommends openjdk-17-jre-headless"));
        List<String> users = dockerfile.lines().filter(l -> l.startsWith("USER ")).toList();
        assertEquals(List.of("USER spark"), users);
        // the build context: our jars come from their modules, not twice from target/lib
        String ignore = Files.readString(ROOT.resolve(".dockerignore"));
        assertTrue(ignore.contains("\nspark-job/target/lib/deep-retrieval-*\n"), ignore);
        for (String source : copied) {
            assertTrue(ignore.contains("\n!" + source + "\n") || ignore.contains("\n!" + source.replaceFirst("/[^/]+$", "/") + "\n")
                    || ignore.contains("\n!" + source.split("/")[0] + "/\n"), "context leaves out " + source);
        }
        String gpuConf = Files.readString(ROOT.resolve("conf/spark-gpu.conf"));
        assertTrue(gpuConf.contains("spark.worker.resource.gpu.discoveryScript /opt/deep-retrieval/docker/gpu-discovery.sh"));
    }

    @Test
    void entrypointStartsSparksOwnClassesWithThePomsJava17Opens() throws IOException {
        String entrypoint = Files.readString(DOCKER.resolve("entrypoint.sh"));
        for (String main : List.of("org.apache.spark.deploy.master.Master", "org.apache.spark.deploy.worker.Worker",
                "org.apache.spark.deploy.SparkSubmit", "io.deepretrieval.spark.gpu.GpuCompatibility")) {
            assertTrue(entrypoint.contains(" " + main), main);
        }
        assertFalse(entrypoint.contains("spark-class") || entrypoint.contains("bin/spark-submit"), "no Spark scripts in the image");
        Matcher m = Pattern.compile("(?s)OPENS=\"(.*?)\"").matcher(entrypoint);
        assertTrue(m.find());
        List<String> opens = List.of(m.group(1).replace("\\\n", "").trim().split("\\s+"));
        assertEquals(List.of(System.getProperty("java17.opens").trim().split("\\s+")), opens);
        assertTrue(entrypoint.contains("export BACKEND_PRIORITY_CPU=1000 BACKEND_PRIORITY_GPU=0"));
    }

    @Test
    void scriptsAreValidShellAndDiscoveryPrintsSparkResourceJson() throws Exception {
        for (String script : List.of("docker/entrypoint.sh", "docker/gpu-discovery.sh", "docker/engine.sh",
                "docker/base-image.sh", "bin/deep-retrieval",
                "bin/bench-scaling", "bin/gpu-benchmark")) {
            Process p = new ProcessBuilder("bash", "-n", ROOT.resolve(script).toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            assertEquals(0, p.waitFor(), script + ": " + out);
        }
        Process p = new ProcessBuilder("bash", DOCKER.resolve("gpu-discovery.sh").toString()).start();
        JsonNode resource = new ObjectMapper().readTree(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor());
        assertEquals("gpu", resource.get("name").asText());
        assertTrue(resource.get("addresses").isArray());
    }

    private static Set<String> fieldNames(JsonNode node) {
        Set<String> names = new java.util.TreeSet<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
