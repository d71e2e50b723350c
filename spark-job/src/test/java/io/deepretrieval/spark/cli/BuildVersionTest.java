package io.deepretrieval.spark.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One version string: {@code --version} prints the parent POM's version, and every deep-retrieval artifact name
 * the README, the docs, the Dockerfile, .dockerignore and the example project spell carries that same version.
 */
class BuildVersionTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    /** The oracle: the parent POM's own version element, read here as text. */
    private static String pomVersion() throws IOException {
        Matcher m = Pattern.compile("(?m)^  <version>([^<]+)</version>$").matcher(Files.readString(ROOT.resolve("pom.xml")));
        assertTrue(m.find(), "the parent POM has a version");
        return m.group(1);
    }

    @Test
    void versionPrintsTheBuildsVersion() throws IOException {
        StringWriter out = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out));
        assertEquals(0, cli.execute("--version"));
        assertEquals("deep-retrieval " + pomVersion(), out.toString().strip());
    }

    @Test
    void everyArtifactNameInTheDocsCarriesThatVersion() throws IOException {
        String version = pomVersion();
        Pattern artifact = Pattern.compile("deep-retrieval-(?:model|spark_2\\.12|spark-job)-(\\d+\\.\\d+\\.\\d+[\\w.-]*?)(?:-app)?\\.jar"
                + "|<artifactId>deep-retrieval-(?:parent|model|spark_2\\.12|spark-job)</artifactId>\\s*<version>([^<]+)</version>");
        List<Path> files = new ArrayList<>(List.of(ROOT.resolve("README.md"), ROOT.resolve("docker/Dockerfile"),
                ROOT.resolve(".dockerignore"), ROOT.resolve("examples/quickstart/pom.xml")));
        try (var docs = Files.list(ROOT.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).forEach(files::add);
        }
        int found = 0;
        for (Path f : files) {
            Matcher m = artifact.matcher(Files.readString(f));
            while (m.find()) {
                found++;
                String v = m.group(1) != null ? m.group(1) : m.group(2);
                assertEquals(version, v, f + ": " + m.group());
            }
        }
        assertTrue(found >= 8, found + " artifact names checked");
    }
}
