package io.deepretrieval.spark.distribution;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
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

/**
 * The artifacts as a user's project sees them: this build's parent POM, model jar and library jar are placed in a
 * fresh local repository the way {@code mvn install} places them; examples/quickstart (a project of its own) is
 * compiled against them, with every other artifact from the build's repository and nothing else, and run, by the
 * README's own commands for it. It
 * fits the Estimator on generated Parquet, saves, loads and recommends, and its recommendations stay mostly in the
 * customer's planted group. This proves the coordinates and scopes the README gives.
 */
class ConsumerProjectIT {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @Test
    void theQuickStartBuildsAgainstTheInstalledArtifactsAndLearns(@TempDir Path tmp) throws Exception {
        String version = System.getProperty("project.version");
        Path repo = tmp.resolve("repo");
        place(repo, "deep-retrieval-parent", version, ROOT.resolve("pom.xml"), null);
        place(repo, "deep-retrieval-model", version, ROOT.resolve("model/pom.xml"),
                ROOT.resolve("model/target/deep-retrieval-model-" + version + ".jar"));
        place(repo, "deep-retrieval-spark_2.12", version, ROOT.resolve("spark/pom.xml"),
                ROOT.resolve("spark/target/deep-retrieval-spark_2.12-" + version + ".jar"));
        // Every other artifact comes from the build's own repository, served as a remote one: no network.
        Path settings = tmp.resolve("settings.xml");
        Files.writeString(settings, "<settings><mirrors><mirror><id>build</id><mirrorOf>*</mirrorOf><url>"
                + Path.of(System.getProperty("local.repository")).toUri() + "</url></mirror></mirrors></settings>");
        Path project = tmp.resolve("quickstart");
        copyTree(ROOT.resolve("examples/quickstart"), project);

        // The README's commands for the example, as written, with this build's wrapper and repositories.
        String script = String.join(" && ", readmeCommands())
                .replace("cd examples/quickstart", "cd " + project)
                .replace("../../mvnw", ROOT.resolve("mvnw") + " -s " + settings + " -Dmaven.repo.local=" + repo)
                .replace("../../bin/", ROOT.resolve("bin") + "/")
                .replace("/tmp/quickstart", tmp.resolve("out").toString());
        String out = run(tmp, 20, "bash", "-c", script);

        assertTrue(out.contains("customers with recommendations 200"), out);
        Matcher share = Pattern.compile("share of recommendations in the customer's group ([0-9.]+) \\(chance 0\\.2000\\)")
                .matcher(out);
        assertTrue(share.find(), out);
        assertTrue(Double.parseDouble(share.group(1)) > 0.6, "3x chance: " + out);
        assertTrue(Files.isDirectory(tmp.resolve("out/model/stages")), "a saved PipelineModel");
        // Model selection: CrossValidator by per-user NDCG@10 ranks the usual rate above one 100 times smaller.
        Matcher slow = Pattern.compile("learningRate 0\\.001: NDCG@10 ([0-9.]+)").matcher(out);
        Matcher usual = Pattern.compile("learningRate 0\\.100: NDCG@10 ([0-9.]+)").matcher(out);
        assertTrue(slow.find() && usual.find(), out);
        assertTrue(Double.parseDouble(usual.group(1)) > Double.parseDouble(slow.group(1)), out);
        // Side features: customers the model never saw, known by region and age, get their region's category.
        Matcher side = Pattern.compile("new customers' recommendations in their region's category ([0-9.]+) \\(chance"
                + " 0\\.2500\\)").matcher(out);
        assertTrue(side.find(), out);
        assertTrue(Double.parseDouble(side.group(1)) > 0.75, "3x chance: " + out);
        try (Stream<Path> jars = Files.walk(repo.resolve("org/apache/spark"))) {
            assertTrue(jars.anyMatch(p -> p.toString().endsWith(".jar")), "Spark resolved as the example declares it");
        }
    }

    /** The lines of the README's bash block that builds and runs examples/quickstart. */
    private static List<String> readmeCommands() throws IOException {
        String readme = Files.readString(ROOT.resolve("README.md"));
        Matcher block = Pattern.compile("```bash\n(cd examples/quickstart\n.*?)```", Pattern.DOTALL).matcher(readme);
        assertTrue(block.find(), "the README shows how to build and run the example");
        List<String> lines = block.group(1).strip().lines().toList();
        assertEquals(5, lines.size(), lines.toString());
        return lines;
    }

    /** A POM and jar where {@code mvn install} puts them in a local repository. */
    private static void place(Path repo, String artifact, String version, Path pom, Path jar) throws IOException {
        Path dir = repo.resolve("io/deepretrieval/" + artifact + "/" + version);
        Files.createDirectories(dir);
        Files.copy(pom, dir.resolve(artifact + "-" + version + ".pom"));
        if (jar != null) {
            assertTrue(Files.exists(jar), jar + " is built");
            Files.copy(jar, dir.resolve(artifact + "-" + version + ".jar"));
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path f : files.filter(p -> !p.toString().contains("/target")).toList()) {
                Path target = to.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(f, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    /** Runs a command in {@code dir}, returns its output (stdout and stderr); a failure or a timeout fails the test. */
    private static String run(Path dir, int minutes, String... command) throws Exception {
        Path log = Files.createTempFile(dir, "run", ".log");
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        if (!p.waitFor(minutes, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " timed out:\n" + Files.readString(log));
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), String.join(" ", command) + ":\n" + out);
        return out;
    }
}
