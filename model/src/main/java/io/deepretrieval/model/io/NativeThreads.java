package io.deepretrieval.model.io;

import org.nd4j.linalg.factory.Nd4j;

/**
 * Caps the threads ND4J's native ops and its BLAS use inside one training task.
 *
 * <p>Measured on the 2-core CI-sized machine, ML-100k, [32], batch 2,048: ND4J's default (one op thread per core,
 * BLAS likewise) trained 47-50k examples/s; one thread each, 69-72k. The per-op work on a 2,048-row batch is too
 * small for the fork/join cost, and under Spark every task slot already runs a trainer of its own, so the
 * default is one native thread per task; {@code 0} keeps ND4J's own choice (all cores).
 */
public final class NativeThreads {
    private NativeThreads() {
    }

    /** Applies {@code threads} (>= 1) to this JVM's ND4J op and BLAS thread pools; 0 leaves them as they are. */
    public static void apply(int threads) {
        if (threads < 0) {
            throw new IllegalArgumentException("nativeThreads must be >= 0, got " + threads);
        }
        if (threads == 0) {
            return;
        }
        Nd4j.getEnvironment().setMaxThreads(threads);  // ignored by M2.1's CPU backend (reads back the core count)
        Nd4j.getEnvironment().setMaxMasterThreads(threads);
        Nd4j.factory().blas().setMaxThreads(threads);
    }
}
