package io.deepretrieval.model.io;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/** Waits for work handed to another thread and rethrows its failure as the caller would have seen it. */
public final class Futures {
    private Futures() {
    }

    /** The result of {@code f}; a runtime exception or error of the task is rethrown as it is. */
    public static <T> T join(Future<T> f) {
        try {
            return f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for another thread's work", e);
        }
    }
}
