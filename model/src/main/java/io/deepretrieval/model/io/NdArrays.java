package io.deepretrieval.model.io;

import org.nd4j.linalg.api.ndarray.INDArray;

/** Copies ND4J arrays out to plain Java arrays without leaving native temporaries for the GC to find. */
public final class NdArrays {
    private NdArrays() {
    }

    /** The values of {@code a} in row-major order, as a new {@code float[]}. */
    public static float[] floats(INDArray a) {
        INDArray rowMajor = a.dup('c');
        try {
            return rowMajor.data().asFloat();
        } finally {
            rowMajor.close();
        }
    }
}
