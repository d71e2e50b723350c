package io.deepretrieval.spark.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;

/** Runs the CLI in this JVM and captures what it writes to stderr (logs, progress, errors). */
final class CliRun {
    private CliRun() {
    }

    record Result(int exitCode, String err) {
    }

    static Result run(String... args) {
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true));
        try {
            return new Result(Main.run(args), captured.toString());
        } finally {
            System.setErr(err);
        }
    }
}
