package io.deepretrieval.model.train;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class AdagradTest {
    @Test
    void oneStepAsKerasComputesIt() {
        Adagrad adagrad = new Adagrad(0.1, 1e-7);
        float[] p = {1f, 2f};
        float[] acc = {0.1f, 0.1f};
        float[] g = {0.5f, 0f};
        adagrad.update(p, acc, g, 0, 2);
        assertEquals(0.35f, acc[0], 1e-7);
        assertEquals(1 - 0.1 * 0.5 / (Math.sqrt(0.35) + 1e-7), p[0], 1e-6);
        assertEquals(2f, p[1], 0f);       // zero gradient: no change
        assertEquals(0.1f, acc[1], 0f);
    }

    @Test
    void stepsShrinkAsTheAccumulatorGrows() {
        Adagrad adagrad = new Adagrad(0.1, 1e-7);
        float[] p = {0f};
        float[] acc = {0.1f};
        adagrad.update(p, acc, new float[]{1f}, 0, 1);
        float first = -p[0];
        adagrad.update(p, acc, new float[]{1f}, 0, 1);
        float second = -p[0] - first;
        assertEquals(0.1 / Math.sqrt(1.1), first, 1e-6);
        assertEquals(0.1 / Math.sqrt(2.1), second, 1e-6);
    }
}
