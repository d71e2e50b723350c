package io.deepretrieval.model.towers;

import io.deepretrieval.model.train.Adagrad;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * An embedding table held as a plain {@code float[]}, with its row lookups, row gradients and sparse Adagrad update
 * done in Java beside the SameDiff graph.
 *
 * <p>Why not {@code sd.gather}: in SameDiff 1.0.0-M2.1 its gradient fails to build, its replacement
 * {@code unsorted_segment_sum} leaks native memory on every call, and the leak-free {@code scatter_add} took
 * ~35 ms per step here for the 2,048 × 16 title-token rows. The tables are small (at most 10,000 × 32), so
 * looking rows up and summing their gradients in Java costs about a millisecond, touches only the rows a batch
 * uses (as TF's sparse Adagrad does), and keeps the parameters backend-neutral plain arrays that checkpoints and
 * parameter averaging can ship as they are.
 */
public final class EmbeddingTable implements Parameter {
    private final String name;
    private final int rows;
    private final int dim;
    private final float[] weights;
    private final float[] accumulator;
    private final float[] gradient;
    private final boolean[] touched;
    private final int[] touchedRows;
    private int touchedCount;
    /** Adagrad updates per row since {@link #markUpdates()}; what sparse parameter averaging ships and weighs. */
    private final int[] updates;
    private final int[] updatedRows;
    private int updatedCount;

    EmbeddingTable(String name, int rows, int dim, float[] weights, float initialAccumulator) {
        if (weights.length != (long) rows * dim) { // an int product could wrap round to a short array's length
            throw new IllegalArgumentException(name + ": " + weights.length + " values for " + rows + "x" + dim);
        }
        this.name = name;
        this.rows = rows;
        this.dim = dim;
        this.weights = weights;
        this.accumulator = new float[weights.length];
        java.util.Arrays.fill(accumulator, initialAccumulator);
        this.gradient = new float[weights.length];
        this.touched = new boolean[rows];
        this.touchedRows = new int[rows];
        this.updates = new int[rows];
        this.updatedRows = new int[rows];
    }

    @Override
    public String name() {
        return name;
    }

    public int rows() {
        return rows;
    }

    @Override
    public float[] values() {
        return weights;
    }

    @Override
    public float[] accumulator() {
        return accumulator;
    }

    @Override
    public float[] gradient() {
        return gradient;
    }

    @Override
    public long[] shape() {
        return new long[]{rows, dim};
    }

    @Override
    public void valuesChanged() {
        // Lookups read the array directly: nothing to propagate.
    }

    /** Rows {@code indices} of the table, as a new [n, dim] array. */
    public INDArray lookup(int[] indices) {
        float[] out = new float[Math.multiplyExact(indices.length, dim)];
        for (int i = 0; i < indices.length; i++) {
            System.arraycopy(weights, checked(indices[i]) * dim, out, i * dim, dim);
        }
        return Nd4j.create(out, new long[]{indices.length, dim}, 'c');
    }

    /**
     * Weighted sums of rows: output row {@code i} is Σₜ w[i·width+t] · table[idx[i·width+t]].
     * With weights 1/count on real tokens and 0 on padding, this is the masked mean of a title's token embeddings.
     */
    public INDArray weightedSum(int[] indices, float[] w, int width) {
        int n = indices.length / width;
        float[] out = new float[Math.multiplyExact(n, dim)];
        for (int i = 0; i < n; i++) {
            for (int t = 0; t < width; t++) {
                float wt = w[i * width + t];
                if (wt == 0f) {
                    continue;
                }
                int src = checked(indices[i * width + t]) * dim;
                for (int k = 0; k < dim; k++) {
                    out[i * dim + k] += wt * weights[src + k];
                }
            }
        }
        return Nd4j.create(out, new long[]{n, dim}, 'c');
    }

    /** Adds the gradient of looked-up rows ([n, dim], one per index; duplicates add up). */
    public void addGradient(int[] indices, float[] rowGradients) {
        for (int i = 0; i < indices.length; i++) {
            int dst = touch(indices[i]) * dim;
            for (int k = 0; k < dim; k++) {
                gradient[dst + k] += rowGradients[i * dim + k];
            }
        }
    }

    /** Adds the gradient of {@link #weightedSum} outputs ([n, dim]) back to the rows that made them. */
    public void addWeightedSumGradient(int[] indices, float[] w, int width, float[] outputGradients) {
        int n = indices.length / width;
        for (int i = 0; i < n; i++) {
            for (int t = 0; t < width; t++) {
                float wt = w[i * width + t];
                if (wt == 0f) {
                    continue;
                }
                int dst = touch(indices[i * width + t]) * dim;
                for (int k = 0; k < dim; k++) {
                    gradient[dst + k] += wt * outputGradients[i * dim + k];
                }
            }
        }
    }

    /** Applies Adagrad to the rows that received gradient since the last call, then clears the gradient. */
    public void applyUpdate(Adagrad optimizer) {
        for (int r = 0; r < touchedCount; r++) {
            int row = touchedRows[r];
            optimizer.update(weights, accumulator, gradient, row * dim, dim);
            java.util.Arrays.fill(gradient, row * dim, (row + 1) * dim, 0f);
            touched[row] = false;
            if (updates[row]++ == 0) {
                updatedRows[updatedCount++] = row;
            }
        }
        touchedCount = 0;
    }

    /** Starts counting updates afresh: every row's count since the mark is 0. */
    public void markUpdates() {
        for (int r = 0; r < updatedCount; r++) {
            updates[updatedRows[r]] = 0;
        }
        updatedCount = 0;
    }

    /** The rows updated since {@link #markUpdates()}, ascending; every other row is as it was at the mark. */
    public int[] rowsUpdatedSinceMark() {
        int[] out = java.util.Arrays.copyOf(updatedRows, updatedCount);
        java.util.Arrays.sort(out);
        return out;
    }

    /** How many Adagrad updates (training steps) changed {@code row} since {@link #markUpdates()}. */
    public int updatesSinceMark(int row) {
        return updates[checked(row)];
    }

    public int dim() {
        return dim;
    }

    private int touch(int row) {
        checked(row);
        if (!touched[row]) {
            touched[row] = true;
            touchedRows[touchedCount++] = row;
        }
        return row;
    }

    private int checked(int row) {
        if (row < 0 || row >= rows) {
            throw new IndexOutOfBoundsException(name + ": row " + row + " outside 0.." + (rows - 1));
        }
        return row;
    }
}
