package io.deepretrieval.model.towers;

import io.deepretrieval.model.io.NdArrays;
import io.deepretrieval.model.train.Adagrad;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** A dense-layer kernel or bias: a SameDiff variable whose master copy and optimizer state are plain arrays. */
public final class DenseParameter implements Parameter {
    private final String name;
    private final INDArray graphArray;
    private final float[] values;
    private final float[] accumulator;
    private final float[] gradient;

    DenseParameter(String name, INDArray graphArray, float initialAccumulator) {
        this.name = name;
        this.graphArray = graphArray;
        this.values = NdArrays.floats(graphArray);
        this.accumulator = new float[values.length];
        java.util.Arrays.fill(accumulator, initialAccumulator);
        this.gradient = new float[values.length];
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public float[] values() {
        return values;
    }

    @Override
    public float[] accumulator() {
        return accumulator;
    }

    @Override
    public long[] shape() {
        return graphArray.shape();
    }

    @Override
    public float[] gradient() {
        return gradient;
    }

    /** Adds a gradient from the graph (same shape as the parameter) to the pending one. */
    public void addGradient(INDArray graphGradient) {
        float[] g = NdArrays.floats(graphGradient);
        for (int i = 0; i < g.length; i++) {
            gradient[i] += g[i];
        }
    }

    /** Applies Adagrad with the pending gradient, clears it, and updates the graph's array. */
    public void applyUpdate(Adagrad optimizer) {
        optimizer.update(values, accumulator, gradient, 0, values.length);
        java.util.Arrays.fill(gradient, 0f);
        valuesChanged();
    }

    @Override
    public void valuesChanged() {
        graphArray.assign(Nd4j.create(values, graphArray.shape(), 'c'));
    }
}
