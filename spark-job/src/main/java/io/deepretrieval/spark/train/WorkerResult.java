package io.deepretrieval.spark.train;

import io.deepretrieval.model.train.ModelState;

import java.io.Serializable;

/**
 * What replicas send back after a round, summed on the way to the driver (tree aggregation): parameters and
 * Adagrad accumulators, weighted by the examples each replica trained on, plus loss and counts. A replica's result
 * travels as its plain float state (half the bytes of the weighted double sums); sums are formed only where two
 * results meet.
 */
final class WorkerResult implements Serializable {
    /** One replica's state, unweighted; null once this result is a sum. */
    float[] values;
    float[] accumulators;
    /** Example-weighted sums of several replicas' states; null while this result is a single replica's. */
    double[] weightedValues;
    double[] weightedAccumulators;
    double lossSum;
    long batches;
    long examples;
    /** Set by the task; a sum keeps each phase's slowest replica. */
    ReplicaTimes times = ReplicaTimes.NONE;

    static WorkerResult empty() {
        return new WorkerResult();
    }

    static WorkerResult of(ModelState state, double lossSum, long batches, long examples) {
        WorkerResult r = new WorkerResult();
        r.values = state.values();
        r.accumulators = state.accumulators();
        r.lossSum = lossSum;
        r.batches = batches;
        r.examples = examples;
        return r;
    }

    /** Turns a single replica's state into weighted sums, so that others can be added to it. */
    private void weigh() {
        if (weightedValues != null) {
            return;
        }
        weightedValues = new double[values.length];
        weightedAccumulators = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            weightedValues[i] = (double) values[i] * examples;
            weightedAccumulators[i] = (double) accumulators[i] * examples;
        }
        values = null;
        accumulators = null;
    }

    WorkerResult add(WorkerResult other) {
        if (other.examples == 0) {
            return this;
        }
        if (examples == 0) {
            return other;
        }
        weigh();
        if (other.weightedValues != null) {
            for (int i = 0; i < weightedValues.length; i++) {
                weightedValues[i] += other.weightedValues[i];
                weightedAccumulators[i] += other.weightedAccumulators[i];
            }
        } else {
            for (int i = 0; i < weightedValues.length; i++) {
                weightedValues[i] += (double) other.values[i] * other.examples;
                weightedAccumulators[i] += (double) other.accumulators[i] * other.examples;
            }
        }
        times = times.slowest(other.times);
        lossSum += other.lossSum;
        batches += other.batches;
        examples += other.examples;
        return this;
    }

    /** The example-weighted average; with a single replica it is that replica's state exactly. */
    ModelState average() {
        if (weightedValues == null) {
            return new ModelState(values, accumulators);
        }
        float[] v = new float[weightedValues.length];
        float[] a = new float[weightedValues.length];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (weightedValues[i] / examples);
            a[i] = (float) (weightedAccumulators[i] / examples);
        }
        return new ModelState(v, a);
    }
}
