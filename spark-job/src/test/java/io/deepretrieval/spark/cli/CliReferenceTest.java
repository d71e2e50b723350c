package io.deepretrieval.spark.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * docs/cli.md is the CLI reference generated from the commands: it must equal what {@link CliReference} renders
 * now, hold every command of the tree with each of its options (walked here from picocli's model), and come out
 * the same on every rendering and machine.
 */
class CliReferenceTest {
    private static final Path PAGE = Path.of("..").toAbsolutePath().normalize().resolve("docs/cli.md");

    @Test
    void theCommittedPageIsTheGeneratedOne() throws IOException {
        String expected = CliReference.render();
        String committed = Files.isRegularFile(PAGE) ? Files.readString(PAGE, StandardCharsets.UTF_8) : "";
        assertEquals(expected, committed, "docs/cli.md is out of date with the commands; regenerate it from the"
                + " repository root with: " + CliReference.REGENERATE);
    }

    @Test
    void everyCommandHasItsSectionAndTheRenderingIsStable() {
        String page = CliReference.render();
        assertEquals(page, CliReference.render(), "two renderings are equal");
        // The oracle: the command tree walked here independently of the generator.
        List<CommandLine> commands = new ArrayList<>();
        walk(Main.commandLine(), commands);
        assertTrue(commands.size() >= 13, commands.size() + " commands: the top command and its subcommands");
        for (CommandLine c : commands) {
            String name = c.getCommandSpec().qualifiedName(" ");
            int start = page.indexOf("\n## " + name + "\n");
            assertTrue(start >= 0, "a section for " + name);
            int end = page.indexOf("\n## ", start + 1);
            String section = page.substring(start, end < 0 ? page.length() : end);
            assertTrue(section.contains("Usage: " + name), "the usage of " + name);
            for (OptionSpec o : c.getCommandSpec().options()) {
                assertTrue(o.hidden() || section.contains(o.longestName()), name + " lists " + o.longestName());
            }
        }
        // Nothing of the machine that renders it: its working directory or home folder.
        assertFalse(page.contains(Path.of("").toAbsolutePath().toString()), "no working directory in the page");
        assertFalse(page.contains(System.getProperty("user.home") + "/"), "no home folder in the page");
        assertTrue(page.startsWith("<!-- Generated"), "the page says it is generated");
        assertTrue(page.contains(CliReference.REGENERATE), "the page names the command that regenerates it");
        assertTrue(!page.contains("\u001B[") && !page.contains("\r"), "no ANSI styles, no CR line ends");
        boolean inUsage = false;
        for (String line : page.split("\n")) {
            inUsage = inUsage ? !line.equals("```") : line.equals("```text");
            assertTrue(!inUsage || line.length() <= CliReference.WIDTH, "within " + CliReference.WIDTH + " columns: " + line);
            assertEquals(line.stripTrailing(), line, "no trailing blanks");
        }
    }

    private static void walk(CommandLine c, List<CommandLine> into) {
        into.add(c);
        c.getSubcommands().values().stream().filter(sub -> !sub.getCommandSpec().usageMessage().hidden())
                .forEach(sub -> walk(sub, into));
    }
}
