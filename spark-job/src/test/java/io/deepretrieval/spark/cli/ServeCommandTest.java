package io.deepretrieval.spark.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code serve}'s argument errors: one clear line naming the option, before anything is loaded. */
class ServeCommandTest {
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
        String[] missing = run("serve", "--model", tmp.resolve("none").toString());
        assertEquals("1", missing[0]);
        assertTrue(missing[1].contains("is not a saved deep-retrieval model"), missing[1]);
        String[] synthetic = run("serve", "--model", model, "--shutdown-delay", "-1");
        assertEquals("2", synthetic[0]);
        assertTrue(synthetic[1].contains("--shutdown-delay"), synthetic[1]);
    }
}
