package io.deepretrieval.model.task;

import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

class RetrievalLossTest {
    private static double loss(float[][] q, float[][] c) {
        SameDiff sd = SameDiff.create();
        SDVariable qs = sd.placeHolder("q", DataType.FLOAT, -1, q[0].length);
        SDVariable cs = sd.placeHolder("c", DataType.FLOAT, -1, c[0].length);
        RetrievalLoss.build(sd, qs, cs);
        return sd.output(Map.of("q", Nd4j.create(q), "c", Nd4j.create(c)), RetrievalLoss.LOSS)
                .get(RetrievalLoss.LOSS).getDouble(0);
    }

    @Test
    void handComputedTwoByTwo() {
        // logits = identity: each row's loss is log(e^1 + e^0) - 1; summed over the two rows.
        float[][] eye = {{1, 0}, {0, 1}};
        assertEquals(2 * (Math.log(Math.E + 1) - 1), loss(eye, eye), 1e-6);
    }

    @Test
    void sumNotMean() {
        // All logits equal: each of B rows contributes log(B).
        float[][] same = {{1, 1}, {1, 1}, {1, 1}, {1, 1}};
        assertEquals(4 * Math.log(4), loss(same, same), 1e-5);
    }

    @Test
    void largeLogitsStayFinite() {
        // Without the max shift exp(300) would overflow float.
        float[][] q = {{30, 0}, {0, 30}};
        float[][] c = {{10, 0}, {0, 10}};
        assertEquals(2 * Math.log1p(Math.exp(-300)), loss(q, c), 1e-6);
    }

    @Test
    void matchesDoublePrecisionReferenceOnRandomBatch() {
        Random rng = new Random(7);
        float[][] q = new float[16][4];
        float[][] c = new float[16][4];
        for (int i = 0; i < 16; i++) {
            for (int k = 0; k < 4; k++) {
                q[i][k] = (float) rng.nextGaussian();
                c[i][k] = (float) rng.nextGaussian();
            }
        }
        double expected = 0;
        for (int i = 0; i < 16; i++) {
            double[] logits = new double[16];
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < 16; j++) {
                for (int k = 0; k < 4; k++) {
                    logits[j] += (double) q[i][k] * c[j][k];
                }
                max = Math.max(max, logits[j]);
            }
            double sum = 0;
            for (double l : logits) {
                sum += Math.exp(l - max);
            }
            expected += max + Math.log(sum) - logits[i];
        }
        assertEquals(expected, loss(q, c), 1e-3 * Math.abs(expected));
    }
}
