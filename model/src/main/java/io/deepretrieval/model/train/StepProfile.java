package io.deepretrieval.model.train;

import java.util.Arrays;

/** Where a training step's time goes: input assembly, forward+backward, optimizer update; plus each step's duration. */
public final class StepProfile {
    private long inputNanos;
    private long graphNanos;
    private long updateNanos;
    private long[] steps = new long[1024];
    private int count;

    void record(long input, long graph, long update) {
        inputNanos += input;
        graphNanos += graph;
        updateNanos += update;
        if (count == steps.length) {
            steps = Arrays.copyOf(steps, count * 2);
        }
        steps[count++] = input + graph + update;
    }

    public void reset() {
        inputNanos = graphNanos = updateNanos = 0;
        count = 0;
    }

    public int steps() {
        return count;
    }

    public double inputSeconds() {
        return inputNanos / 1e9;
    }

    public double forwardBackwardSeconds() {
        return graphNanos / 1e9;
    }

    public double optimizerSeconds() {
        return updateNanos / 1e9;
    }

    /** Median step time in milliseconds over the steps recorded since the last reset. */
    public double medianStepMillis() {
        if (count == 0) {
            return Double.NaN;
        }
        long[] s = Arrays.copyOf(steps, count);
        Arrays.sort(s);
        return s[s.length / 2] / 1e6;
    }
}
