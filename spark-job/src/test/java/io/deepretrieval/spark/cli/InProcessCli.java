package io.deepretrieval.spark.cli;

import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The CLI run in this JVM for tests outside this package: a command with its stdout and stderr captured, and
 * {@code serve} started in a thread of its own and stopped as SIGTERM would stop it.
 */
public final class InProcessCli {
    private InProcessCli() {
    }

    /** A finished command: its exit code and what it printed. */
    public record Result(int exitCode, String out, String err) {
    }

    /** Runs {@code deep-retrieval args...} through {@link Main#run} and returns what it printed. */
    public static synchronized Result run(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream capturedOut = new ByteArrayOutputStream();
        ByteArrayOutputStream capturedErr = new ByteArrayOutputStream();
        System.setOut(new PrintStream(capturedOut, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(capturedErr, true, StandardCharsets.UTF_8));
        try {
            int code = Main.run(args);
            return new Result(code, capturedOut.toString(StandardCharsets.UTF_8), capturedErr.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    /**
     * Starts {@code deep-retrieval serve args...} in a thread and returns once it listens; an exit before that
     * (a bad option, no model) is an {@link IllegalStateException} with the exit code.
     */
    public static Server serve(long timeout, TimeUnit unit, String... args) throws InterruptedException, TimeoutException {
        CommandLine cli = Main.commandLine();
        ServeCommand serve = cli.getSubcommands().get("serve").getCommand();
        CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> cli.execute(args));
        try {
            CompletableFuture.anyOf(serve.listening, exit).get(timeout, unit);
        } catch (ExecutionException e) {
            throw new IllegalStateException("serve failed", e.getCause());
        }
        if (!serve.listening.isDone()) {
            throw new IllegalStateException("serve exited with code " + exit.join() + " before listening");
        }
        return new Server(serve, serve.listening.join(), exit);
    }

    /** A {@code serve} running in this JVM; {@link #close()} stops it and returns its exit code. */
    public static final class Server implements AutoCloseable {
        private final ServeCommand command;
        private final int port;
        private final CompletableFuture<Integer> exit;

        private Server(ServeCommand command, int port, CompletableFuture<Integer> exit) {
            this.command = command;
            this.port = port;
            this.exit = exit;
        }

        /** The port it listens on. */
        public int port() {
            return port;
        }

        /** Stops the server and waits for the command to return; its exit code. */
        public int stop() throws InterruptedException, ExecutionException, TimeoutException {
            command.stop();
            return exit.get(1, TimeUnit.MINUTES);
        }

        @Override
        public void close() throws Exception {
            if (!exit.isDone()) {
                stop();
            }
        }
    }
}
