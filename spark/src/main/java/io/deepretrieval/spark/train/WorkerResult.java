package io.deepretrieval.spark.train;

import io.deepretrieval.model.towers.DenseParameter;
import io.deepretrieval.model.towers.EmbeddingTable;
import io.deepretrieval.model.towers.TwoTowerModel;
import io.deepretrieval.model.train.ModelState;

import java.io.Serializable;
import java.util.List;

/**
 * What replicas send back after a round, summed on the way to the driver (tree aggregation): the dense parameters
 * whole, and of each embedding table only the rows the replica updated, each with its Adagrad accumulator; plus
 * loss and counts.
 *
 * <p>Averaging is sparse-aware. The dense parameters (which every step updates) are averaged over all replicas,
 * weighted by the examples each trained on. An embedding row is averaged only over the replicas that updated it,
 * weighted by how many of their steps updated it: a row one replica alone touched keeps that replica's result
 * exactly, instead of moving by 1/W of it, and a replica that used a row in more steps carries more of its signal.
 * (Steps rather than examples, because a step's Adagrad update is the unit that moves a row; it is also the same
 * count however a step's batch is sliced over threads.) Rows no replica updated stay as the round started.
 *
 * <p>A replica's result travels as plain floats; double-precision weighted sums are formed only where two results
 * meet.
 */
final class WorkerResult implements Serializable {
    /** One replica's dense values, unweighted; null once this result is a sum. */
    float[] dense;
    float[] denseAccumulators;
    /** Example-weighted sums of several replicas' dense values; null while this result is a single replica's. */
    double[] weightedDense;
    double[] weightedDenseAccumulators;
    /** Per embedding table, in the model's order: the rows updated by the replicas summed here. */
    TableRows[] tables;
    double lossSum;
    long batches;
    long examples;
    /** Payload bytes the replicas summed here sent (4 per float or int), excluding serialization framing. */
    long shippedBytes;
    /** Replicas summed here. */
    int replicas;
    /** Set by the task; a sum keeps each phase's slowest replica. */
    ReplicaTimes times = ReplicaTimes.NONE;

    static WorkerResult empty() {
        return new WorkerResult();
    }

    /** A replica's result: its dense parameters and the table rows updated since the tables' last mark. */
    static WorkerResult of(TwoTowerModel model, double lossSum, long batches, long examples) {
        List<DenseParameter> params = model.denseParameters();
        int n = 0;
        for (DenseParameter p : params) {
            n += p.values().length;
        }
        float[] dense = new float[n];
        float[] accumulators = new float[n];
        int offset = 0;
        for (DenseParameter p : params) {
            int len = p.values().length;
            System.arraycopy(p.values(), 0, dense, offset, len);
            System.arraycopy(p.accumulator(), 0, accumulators, offset, len);
            offset += len;
        }
        return of(dense, accumulators, model.tables().stream().map(TableRows::of).toArray(TableRows[]::new),
                lossSum, batches, examples);
    }

    /** A replica's result from its dense values (in layout order) and its tables' updated rows. */
    static WorkerResult of(float[] dense, float[] denseAccumulators, TableRows[] tables, double lossSum, long batches,
                           long examples) {
        WorkerResult r = new WorkerResult();
        r.dense = dense;
        r.denseAccumulators = denseAccumulators;
        r.tables = tables;
        long bytes = 8L * dense.length;
        for (TableRows t : tables) {
            bytes += t.bytes();
        }
        r.shippedBytes = bytes;
        r.replicas = 1;
        r.lossSum = lossSum;
        r.batches = batches;
        r.examples = examples;
        return r;
    }

    /** Turns a single replica's dense state into weighted sums, so that others can be added to it. */
    private void weigh() {
        if (weightedDense != null) {
            return;
        }
        weightedDense = new double[dense.length];
        weightedDenseAccumulators = new double[dense.length];
        for (int i = 0; i < dense.length; i++) {
            weightedDense[i] = (double) dense[i] * examples;
            weightedDenseAccumulators[i] = (double) denseAccumulators[i] * examples;
        }
        dense = null;
        denseAccumulators = null;
    }

    WorkerResult add(WorkerResult other) {
        if (other.examples == 0) {
            return this;
        }
        if (examples == 0) {
            return other;
        }
        weigh();
        if (other.weightedDense != null) {
            for (int i = 0; i < weightedDense.length; i++) {
                weightedDense[i] += other.weightedDense[i];
                weightedDenseAccumulators[i] += other.weightedDenseAccumulators[i];
            }
        } else {
            for (int i = 0; i < weightedDense.length; i++) {
                weightedDense[i] += (double) other.dense[i] * other.examples;
                weightedDenseAccumulators[i] += (double) other.denseAccumulators[i] * other.examples;
            }
        }
        for (int t = 0; t < tables.length; t++) {
            tables[t] = TableRows.merge(tables[t], other.tables[t]);
        }
        times = times.slowest(other.times);
        lossSum += other.lossSum;
        batches += other.batches;
        examples += other.examples;
        shippedBytes += other.shippedBytes;
        replicas += other.replicas;
        return this;
    }

    /**
     * The averaged state: {@code base} (the state the round started from) with the averaged dense parameters and the
     * averaged updated rows written over it. With a single replica it is that replica's state exactly.
     */
    ModelState average(ModelState base, StateLayout layout) {
        float[] v = base.values().clone();
        float[] a = base.accumulators().clone();
        int i = 0;
        for (int d = 0; d < layout.denseOffsets().length; d++) {
            int offset = layout.denseOffsets()[d];
            for (int k = 0; k < layout.denseLengths()[d]; k++, i++) {
                v[offset + k] = weightedDense == null ? dense[i] : (float) (weightedDense[i] / examples);
                a[offset + k] = weightedDense == null ? denseAccumulators[i] : (float) (weightedDenseAccumulators[i] / examples);
            }
        }
        for (int t = 0; t < tables.length; t++) {
            tables[t].writeInto(v, a, layout.tableOffsets()[t]);
        }
        return new ModelState(base.layout(), v, a);
    }

    /**
     * The rows of one embedding table that some replicas updated, ascending: a single replica's values, accumulators
     * and update counts, or (once two meet) update-weighted sums and total counts.
     */
    static final class TableRows implements Serializable {
        final int dim;
        int[] rows;
        float[] values;
        float[] accumulators;
        int[] updates;
        double[] weightedValues;
        double[] weightedAccumulators;
        long[] weights;

        private TableRows(int dim) {
            this.dim = dim;
        }

        /** One replica's rows (ascending ids), their values and accumulators ([rows, dim]) and update counts. */
        TableRows(int dim, int[] rows, float[] values, float[] accumulators, int[] updates) {
            this(dim);
            this.rows = rows;
            this.values = values;
            this.accumulators = accumulators;
            this.updates = updates;
        }

        static TableRows of(EmbeddingTable table) {
            int[] rows = table.rowsUpdatedSinceMark();
            int d = table.dim();
            float[] values = new float[rows.length * d];
            float[] accumulators = new float[rows.length * d];
            int[] updates = new int[rows.length];
            for (int i = 0; i < rows.length; i++) {
                System.arraycopy(table.values(), rows[i] * d, values, i * d, d);
                System.arraycopy(table.accumulator(), rows[i] * d, accumulators, i * d, d);
                updates[i] = table.updatesSinceMark(rows[i]);
            }
            return new TableRows(d, rows, values, accumulators, updates);
        }

        /** Row ids, update counts, values and accumulators, 4 bytes each. */
        long bytes() {
            return (long) rows.length * (8 + 8L * dim);
        }

        private boolean summed() {
            return weights != null;
        }

        /** The union of both row sets, each row's weighted sums added. */
        static TableRows merge(TableRows a, TableRows b) {
            int n = 0;
            for (int i = 0, j = 0; i < a.rows.length || j < b.rows.length; n++) {
                int ra = i < a.rows.length ? a.rows[i] : Integer.MAX_VALUE;
                int rb = j < b.rows.length ? b.rows[j] : Integer.MAX_VALUE;
                i += ra <= rb ? 1 : 0;
                j += rb <= ra ? 1 : 0;
            }
            TableRows out = new TableRows(a.dim);
            out.rows = new int[n];
            out.weightedValues = new double[n * a.dim];
            out.weightedAccumulators = new double[n * a.dim];
            out.weights = new long[n];
            for (int i = 0, j = 0, o = 0; o < n; o++) {
                int ra = i < a.rows.length ? a.rows[i] : Integer.MAX_VALUE;
                int rb = j < b.rows.length ? b.rows[j] : Integer.MAX_VALUE;
                out.rows[o] = Math.min(ra, rb);
                if (ra <= rb) {
                    a.addInto(i++, out, o);
                }
                if (rb <= ra) {
                    b.addInto(j++, out, o);
                }
            }
            return out;
        }

        private void addInto(int i, TableRows out, int o) {
            int from = i * dim;
            int to = o * dim;
            if (summed()) {
                out.weights[o] += weights[i];
                for (int k = 0; k < dim; k++) {
                    out.weightedValues[to + k] += weightedValues[from + k];
                    out.weightedAccumulators[to + k] += weightedAccumulators[from + k];
                }
            } else {
                long w = updates[i];
                out.weights[o] += w;
                for (int k = 0; k < dim; k++) {
                    out.weightedValues[to + k] += (double) values[from + k] * w;
                    out.weightedAccumulators[to + k] += (double) accumulators[from + k] * w;
                }
            }
        }

        /** Writes the (averaged) rows over a flat state whose table starts at {@code offset}. */
        void writeInto(float[] values, float[] accumulators, int offset) {
            for (int i = 0; i < rows.length; i++) {
                int dst = offset + rows[i] * dim;
                if (!summed()) {
                    System.arraycopy(this.values, i * dim, values, dst, dim);
                    System.arraycopy(this.accumulators, i * dim, accumulators, dst, dim);
                    continue;
                }
                for (int k = 0; k < dim; k++) {
                    values[dst + k] = (float) (weightedValues[i * dim + k] / weights[i]);
                    accumulators[dst + k] = (float) (weightedAccumulators[i * dim + k] / weights[i]);
                }
            }
        }
    }
}
