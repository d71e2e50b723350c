package io.deepretrieval.spark.docs;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The documentation's own rules (CONTRIBUTING.md, "Docs"), checked on README.md and docs/*.md: no test class
 * names as evidence (docs/testing.md, written for contributors, may name them), no paths outside the repository,
 * no "this build / previous build" prose (history goes to CHANGELOG.md). Each finding names its file and line.
 */
class DocsRulesTest {
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    /** A test class's name: CamelCase ending in Test or IT (so JIT or BUILDKIT are not one). */
    private static final Pattern TEST_CLASS = Pattern.compile("\\b[A-Z][a-z][A-Za-z0-9]*(Test|IT)\\b");
    private static final List<String> HISTORY_PHRASES = List.of("this build", "previous build", "current build");

    /** README.md and every page directly under docs/ (the per-run folders under docs/ are generated results). */
    static List<Path> pages() throws IOException {
        List<Path> pages = new ArrayList<>(List.of(ROOT.resolve("README.md")));
        try (Stream<Path> docs = Files.list(ROOT.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        return pages;
    }

    @Test
    void noTestClassNamesOutsideTheTestingPage() throws IOException {
        List<String> found = new ArrayList<>();
        for (Path page : pages()) {
            if (page.equals(ROOT.resolve("docs/testing.md"))) {
                continue;
            }
            forEachLine(page, (where, line) -> {
                Matcher m = TEST_CLASS.matcher(line);
                while (m.find()) {
                    found.add(where + ": " + m.group() + " (say what is guaranteed, not which class checks it)");
                }
            });
        }
        assertTrue(found.isEmpty(), String.join("\n", found));
    }

    @Test
    void noPathsOutsideTheRepository() throws IOException {
        List<String> found = new ArrayList<>();
        for (Path page : pages()) {
            forEachLine(page, (where, line) -> {
                if (line.contains("../shared")) {
                    found.add(where + ": ../shared (use data/ml-100k, where bin/deep-retrieval download puts it, or a placeholder)");
                }
            });
        }
        assertTrue(found.isEmpty(), String.join("\n", found));
    }

    @Test
    void noBuildHistoryProse() throws IOException {
        List<String> found = new ArrayList<>();
        for (Path page : pages()) {
            List<String> lines = Files.readAllLines(page);
            for (int i = 0; i < lines.size(); i++) {
                // With the next line joined on, so that a phrase broken across two lines is found on its first.
                String line = lines.get(i).toLowerCase(Locale.ROOT).replaceAll("\\s+", " ").stripTrailing();
                String joined = i + 1 < lines.size() ? line + " " + lines.get(i + 1).toLowerCase(Locale.ROOT).strip() : line;
                for (String phrase : HISTORY_PHRASES) {
                    int at = joined.indexOf(phrase);
                    if (at >= 0 && at < line.length()) {
                        found.add(ROOT.relativize(page) + ":" + (i + 1) + ": \"" + phrase
                                + "\" (give the date and commit; history goes to CHANGELOG.md)");
                    }
                }
            }
        }
        assertTrue(found.isEmpty(), String.join("\n", found));
    }

    private interface LineCheck {
        void check(String where, String line);
    }

    private static void forEachLine(Path page, LineCheck check) throws IOException {
        List<String> lines = Files.readAllLines(page);
        String name = ROOT.relativize(page).toString();
        for (int i = 0; i < lines.size(); i++) {
            check.check(name + ":" + (i + 1), lines.get(i));
        }
    }
}
