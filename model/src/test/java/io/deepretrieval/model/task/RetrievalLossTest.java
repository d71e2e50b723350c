package io.deepretrieval.model.task;

import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class RetrievalLossTest {
    private static double loss(float[][] q, float[][] c) {
        SameDiff sd = SameDiff.create();
        SDVariable qs = sd.placeHolder("q", DataType.FLOAT, -1, q[0].length);
        SDVariable cs = sd.placeHolder("c", DataType.FLOAT, -1, c[0].length);
        RetrievalLoss.build(sd, qs, cs, q[0].length);
        return sd.output(Map.of("q", Nd4j.create(q), "c", Nd4j.create(c)), RetrievalLoss.LOSS)
                .get(RetrievalLoss.LOSS).getDouble(0);
    }

    /** The double-precision in-batch softmax loss, the reference for values and finite differences. */
    private static double referenceLoss(double[][] q, double[][] c) {
        double total = 0;
        for (int i = 0; i < q.length; i++) {
            double[] logits = new double[c.length];
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < c.length; j++) {
                for (int k = 0; k < q[i].length; k++) {
                    logits[j] += q[i][k] * c[j][k];
                }
                max = Math.max(max, logits[j]);
            }
            double sum = 0;
            for (double l : logits) {
                sum += Math.exp(l - max);
            }
            total += max + Math.log(sum) - logits[i];
        }
        return total;
    }

    private static double[][] gaussian(Random rng, int rows, int cols, double scale) {
        double[][] m = new double[rows][cols];
        for (double[] row : m) {
            for (int k = 0; k < cols; k++) {
                row[k] = scale * rng.nextGaussian();
            }
        }
        return m;
    }

    private static float[][] toFloat(double[][] m) {
        float[][] f = new float[m.length][];
        for (int i = 0; i < m.length; i++) {
            f[i] = new float[m[i].length];
            for (int k = 0; k < m[i].length; k++) {
                f[i][k] = (float) m[i][k];
            }
        }
        return f;
    }

    @Test
    void closedFormGradientsMatchFiniteDifferences() {
        Random rng = new Random(11);
        int b = 12;
        int d = 5;
        // Scale 2 makes logits up to ~±20, so the row-max shift and the softmax's saturation both matter.
        double[][] q = gaussian(rng, b, d, 2);
        double[][] c = gaussian(rng, b, d, 2);
        SameDiff sd = SameDiff.create();
        RetrievalLoss.build(sd, sd.placeHolder("q", DataType.FLOAT, -1, d), sd.placeHolder("c", DataType.FLOAT, -1, d), d);
        Map<String, INDArray> out = sd.output(
                Map.of("q", Nd4j.create(toFloat(q)), "c", Nd4j.create(toFloat(c))),
                RetrievalLoss.QUERY_GRADIENT, RetrievalLoss.CANDIDATE_GRADIENT);
        float[][] gq = out.get(RetrievalLoss.QUERY_GRADIENT).toFloatMatrix();
        float[][] gc = out.get(RetrievalLoss.CANDIDATE_GRADIENT).toFloatMatrix();
        double h = 1e-5;
        for (int i = 0; i < b; i++) {
            for (int k = 0; k < d; k++) {
                double keep = q[i][k];
                q[i][k] = keep + h;
                double up = referenceLoss(q, c);
                q[i][k] = keep - h;
                double down = referenceLoss(q, c);
                q[i][k] = keep;
                assertEquals((up - down) / (2 * h), gq[i][k], 2e-4, "dLoss/dQ[" + i + "][" + k + "]");

                keep = c[i][k];
                c[i][k] = keep + h;
                up = referenceLoss(q, c);
                c[i][k] = keep - h;
                down = referenceLoss(q, c);
                c[i][k] = keep;
                assertEquals((up - down) / (2 * h), gc[i][k], 2e-4, "dLoss/dC[" + i + "][" + k + "]");
            }
        }
    }

    @Test
    void towerObjectiveDifferentiatesToTheClosedFormGradients() {
        // Autodiff of the objective must treat the closed-form gradients as constants: if it differentiated through
        // them, the tower gradient would pick up extra terms from the B×B ops.
        Random rng = new Random(5);
        int d = 4;
        float[][] q = toFloat(gaussian(rng, 8, d, 1));
        float[][] c = toFloat(gaussian(rng, 8, d, 1));
        SameDiff sd = SameDiff.create();
        RetrievalLoss.build(sd, sd.var("q", Nd4j.create(q)), sd.var("c", Nd4j.create(c)), d);
        Map<String, INDArray> closedForm = sd.output(Map.of(), RetrievalLoss.QUERY_GRADIENT, RetrievalLoss.CANDIDATE_GRADIENT);
        Map<String, INDArray> autodiff = sd.calculateGradients(Map.of(), "q", "c");
        assertArrayEquals(closedForm.get(RetrievalLoss.QUERY_GRADIENT).toFloatMatrix(), autodiff.get("q").toFloatMatrix());
        assertArrayEquals(closedForm.get(RetrievalLoss.CANDIDATE_GRADIENT).toFloatMatrix(), autodiff.get("c").toFloatMatrix());
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
        double[][] q = gaussian(new Random(7), 16, 4, 1);
        double[][] c = gaussian(new Random(8), 16, 4, 1);
        double expected = referenceLoss(q, c);
        assertEquals(expected, loss(toFloat(q), toFloat(c)), 1e-3 * Math.abs(expected));
    }
}
