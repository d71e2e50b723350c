package io.deepretrieval.spark.docker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Lints what can be checked without a Docker engine or a GPU: the compose files parse and wire the roles and GPUs
 * as documented, every path the Dockerfile copies exists in the build output, and the scripts are valid shell.
 * Runs after packaging, so the app jar the image copies must exist.
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
        checkWiring(services);
    }

    @Test
    void cpuComposeRunsTheSameClusterWithoutGpus() throws IOException {
        JsonNode services = compose("docker-compose.cpu.yml").get("services");
        assertEquals(Set.of("master", "worker", "submit"), fieldNames(services));
        assertFalse(services.toString().contains("nvidia"), services.toString());
        assertEquals("0", services.at("/worker/environment/WORKER_GPUS").asText());
        assertEquals("0", services.at("/submit/environment/EXECUTOR_GPUS").asText());
        assertTrue(services.at("/master/build/args/BASE_IMAGE").asText().startsWith("ubuntu:"));
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
                assertTrue(v.asText().startsWith("../"), "volumes are relative to docker/: " + v);
            }
        }
    }

    @Test
    void everyPathTheDockerfileCopiesExistsInTheBuildOutput() throws IOException {
        List<String> copied = new ArrayList<>();
        Matcher m = Pattern.compile("(?m)^COPY\\s+(.+)\\s+(\\S+)$").matcher(Files.readString(DOCKER.resolve("Dockerfile")));
        while (m.find()) {
            for (String source : m.group(1).trim().split("\\s+")) {
                copied.add(source);
                assertTrue(Files.exists(ROOT.resolve(source)), "COPY source missing: " + source);
            }
        }
        assertTrue(copied.contains("spark-job/target/deep-retrieval-spark-job-0.1.0-SNAPSHOT-app.jar"), copied.toString());
        assertTrue(copied.size() >= 4, copied.toString());
        String gpuConf = Files.readString(ROOT.resolve("conf/spark-gpu.conf"));
        assertTrue(gpuConf.contains("spark.worker.resource.gpu.discoveryScript /opt/deep-retrieval/docker/gpu-discovery.sh"));
    }

    @Test
    void scriptsAreValidShellAndDiscoveryPrintsSparkResourceJson() throws Exception {
        for (String script : List.of("docker/entrypoint.sh", "docker/gpu-discovery.sh", "bin/deep-retrieval",
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
