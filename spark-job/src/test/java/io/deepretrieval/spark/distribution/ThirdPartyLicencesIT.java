package io.deepretrieval.spark.distribution;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The licence files: LICENSE is the Apache License 2.0, every jar the application bundles (its runtime classpath,
 * copied to target/lib) is listed in THIRD-PARTY.txt, and the application jar carries the licence, the notice and
 * the list.
 */
class ThirdPartyLicencesIT {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    /** "(groupId:artifactId:version - url)" of a THIRD-PARTY.txt line. */
    private static final Pattern COORDINATES = Pattern.compile("\\(([\\w.\\-]+):([\\w.\\-]+):([\\w.\\-]+) - ");

    @Test
    void everyBundledJarIsListedWithItsLicence() throws IOException {
        String license = Files.readString(ROOT.resolve("LICENSE"));
        assertTrue(license.contains("Apache License") && license.contains("Version 2.0, January 2004")
                && license.contains("END OF TERMS AND CONDITIONS"), "LICENSE is the Apache License 2.0");
        Set<String> listed = new HashSet<>();
        for (String line : Files.readAllLines(ROOT.resolve("THIRD-PARTY.txt"))) {
            Matcher m = COORDINATES.matcher(line);
            if (m.find()) {
                assertTrue(line.strip().startsWith("("), "a line names its licence first: " + line);
                listed.add(m.group(2) + "-" + m.group(3));
            }
        }
        List<String> missing = new ArrayList<>();
        int jars = 0;
        try (Stream<Path> lib = Files.list(ROOT.resolve("spark-job/target/lib"))) {
            for (Path jar : lib.toList()) {
                String name = jar.getFileName().toString();
                if (name.startsWith("deep-retrieval-")) {
                    continue; // this project's own
                }
                jars++;
                // artifactId-version.jar, or with a classifier: artifactId-version-classifier.jar
                if (listed.stream().noneMatch(a -> name.equals(a + ".jar") || name.startsWith(a + "-"))) {
                    missing.add(name);
                }
            }
        }
        assertTrue(jars > 100, jars + " bundled jars");
        assertEquals(List.of(), missing, "bundled jars missing from THIRD-PARTY.txt; regenerate it (its header says how)");

        Path app = Path.of(System.getProperty("app.jar"));
        try (ZipFile zip = new ZipFile(app.toFile())) {
            for (String[] e : new String[][]{{"META-INF/LICENSE-deep-retrieval", "LICENSE"},
                    {"META-INF/NOTICE-deep-retrieval", "NOTICE"}, {"META-INF/THIRD-PARTY.txt", "THIRD-PARTY.txt"}}) {
                ZipEntry entry = zip.getEntry(e[0]);
                assertNotNull(entry, e[0] + " in " + app);
                assertEquals(Files.readString(ROOT.resolve(e[1])),
                        new String(zip.getInputStream(entry).readAllBytes(), StandardCharsets.UTF_8), e[0]);
            }
            ZipEntry notice = zip.getEntry("META-INF/NOTICE");
            assertNotNull(notice, "the bundled projects' merged NOTICE");
            String merged = new String(zip.getInputStream(notice).readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(merged.contains("Apache Commons Net") && merged.contains("Jackson"), merged);
        }
    }
}
