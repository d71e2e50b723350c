package io.deepretrieval.model.compat;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;

/**
 * Mutes {@code System.out} for the calling thread only, while SameDiff M2.1 builds a gradient function (it prints a
 * line per differentiated op straight to stdout). Other threads, e.g. Spark's or a user's in the same executor JVM,
 * keep writing: {@code System.out} is replaced once by a stream that drops only a muted thread's bytes.
 */
public final class QuietStdout {
    private static final ThreadLocal<Boolean> MUTED = ThreadLocal.withInitial(() -> Boolean.FALSE);
    private static PrintStream installed;

    private QuietStdout() {
    }

    /** Runs {@code action} with this thread's stdout output dropped. */
    public static void run(Runnable action) {
        install();
        boolean before = MUTED.get();
        MUTED.set(Boolean.TRUE);
        try {
            action.run();
        } finally {
            MUTED.set(before);
        }
    }

    private static synchronized void install() {
        if (System.out != installed) {
            // Someone (a test, a launcher) may have set its own stream since: wrap that one.
            installed = new PrintStream(new ThreadFilter(System.out), true);
            System.setOut(installed);
        }
    }

    private static final class ThreadFilter extends OutputStream {
        private final PrintStream target;

        ThreadFilter(PrintStream target) {
            this.target = target;
        }

        @Override
        public void write(int b) {
            if (!MUTED.get()) {
                target.write(b);
            }
        }

        @Override
        public void write(byte[] b, int off, int len) {
            if (!MUTED.get()) {
                target.write(b, off, len);
            }
        }

        @Override
        public void flush() throws IOException {
            target.flush();
        }
    }
}
