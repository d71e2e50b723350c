package io.deepretrieval.model.towers;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.SplittableRandom;

/** Keras' default initialisers, drawn from a seeded Java RNG so that a seed fixes the model on any backend. */
final class KerasInit {
    private KerasInit() {
    }

    /** Keras {@code Embedding}'s default: uniform(-0.05, 0.05), row-major [rows, dim]. */
    static float[] embedding(SplittableRandom rng, int rows, int dim) {
        return uniform(rng, Math.multiplyExact(rows, dim), 0.05);
    }

    /** Keras {@code Dense}'s default kernel: Glorot-uniform, limit sqrt(6 / (fanIn + fanOut)). */
    static INDArray glorotUniform(SplittableRandom rng, int fanIn, int fanOut) {
        return Nd4j.create(uniform(rng, fanIn * fanOut, Math.sqrt(6.0 / (fanIn + fanOut))), new long[]{fanIn, fanOut}, 'c');
    }

    private static float[] uniform(SplittableRandom rng, int n, double limit) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) rng.nextDouble(-limit, limit);
        }
        return values;
    }
}
