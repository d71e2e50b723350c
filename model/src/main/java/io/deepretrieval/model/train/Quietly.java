package io.deepretrieval.model.train;

import java.io.OutputStream;
import java.io.PrintStream;

/** Runs code with {@code System.out} muted: SameDiff prints a line per differentiated op straight to stdout. */
final class Quietly {
    private static final Object LOCK = new Object();

    private Quietly() {
    }

    static void run(Runnable action) {
        synchronized (LOCK) {
            PrintStream out = System.out;
            System.setOut(new PrintStream(OutputStream.nullOutputStream()));
            try {
                action.run();
            } finally {
                System.setOut(out);
            }
        }
    }
}
