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

    /**
     * The double-precision in-batch softmax loss, the reference for values and finite differences: query i's
     * positive is candidate i, every candidate is in every row's softmax.
     */
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

    /** The loss's gradients by autodiff of the tower objective, for q and c held as graph variables. */
    private static Map<String, INDArray> objectiveGradients(float[][] q, float[][] c) {
        SameDiff sd = SameDiff.create();
        RetrievalLoss.build(sd, sd.var("q", Nd4j.create(q)), sd.var("c", Nd4j.create(c)), q[0].length);
        return sd.calculateGradients(Map.of(), "q", "c");
    }

    /** d referenceLoss / d row[k], by central differences; {@code row} is a row of q or c. */
    private static double centralDifference(double[][] q, double[][] c, double[] row, int k) {
        double h = 1e-5;
        double keep = row[k];
        row[k] = keep + h;
        double up = referenceLoss(q, c);
        row[k] = keep - h;
        double down = referenceLoss(q, c);
        row[k] = keep;
        return (up - down) / (2 * h);
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        Random rng = new Random(11);
        int d = 5;
        // 9 queries against 12 candidates (the first 9 are their positives), as a batch slice sees them.
        // Scale 2 makes logits up to ~±20, so the row-max shift and the softmax's saturation both matter.
        double[][] q = gaussian(rng, 9, d, 2);
        double[][] c = gaussian(rng, 12, d, 2);
        Map<String, INDArray> grads = objectiveGradients(toFloat(q), toFloat(c));
        float[][] gq = grads.get("q").toFloatMatrix();
        float[][] gc = grads.get("c").toFloatMatrix();
        for (int k = 0; k < d; k++) {
            for (int i = 0; i < q.length; i++) {
                assertEquals(centralDifference(q, c, q[i], k), gq[i][k], 2e-4, "dLoss/dQ[" + i + "][" + k + "]");
            }
            for (int j = 0; j < c.length; j++) {
                assertEquals(centralDifference(q, c, c[j], k), gc[j][k], 2e-4, "dLoss/dC[" + j + "][" + k + "]");
            }
        }
    }

    @Test
    void towerObjectiveDifferentiatesToTheClosedFormGradients() {
        // Autodiff of the objective must treat the closed-form parts as constants: if it differentiated through
        // them, the tower gradient would pick up extra terms from the B×B ops. The positive term adds -C[:n] to
        // dQ and -Q to the first n rows of dC.
        Random rng = new Random(5);
        int d = 4;
        float[][] q = toFloat(gaussian(rng, 6, d, 1));
        float[][] c = toFloat(gaussian(rng, 8, d, 1));
        SameDiff sd = SameDiff.create();
        RetrievalLoss.build(sd, sd.var("q", Nd4j.create(q)), sd.var("c", Nd4j.create(c)), d);
        Map<String, INDArray> closedForm = sd.output(Map.of(),
                RetrievalLoss.SOFTMAX_QUERY_GRADIENT, RetrievalLoss.SOFTMAX_CANDIDATE_GRADIENT);
        Map<String, INDArray> autodiff = sd.calculateGradients(Map.of(), "q", "c");
        float[][] gq = closedForm.get(RetrievalLoss.SOFTMAX_QUERY_GRADIENT).toFloatMatrix();
        float[][] gc = closedForm.get(RetrievalLoss.SOFTMAX_CANDIDATE_GRADIENT).toFloatMatrix();
        for (int i = 0; i < q.length; i++) {
            for (int k = 0; k < d; k++) {
                gq[i][k] -= c[i][k];
                gc[i][k] -= q[i][k];
            }
        }
        assertArrayEquals(gq, autodiff.get("q").toFloatMatrix());
        assertArrayEquals(gc, autodiff.get("c").toFloatMatrix());
    }

    @Test
    void querySlicesAddUpToTheWholeBatch() {
        // Two slices of the queries, each against every candidate with its own positives first, give the whole
        // batch's loss and gradients: what lets a training step run the slices on separate threads.
        Random rng = new Random(3);
        int d = 4;
        float[][] q = toFloat(gaussian(rng, 10, d, 1));
        float[][] c = toFloat(gaussian(rng, 10, d, 1));
        float[][] firstQ = java.util.Arrays.copyOfRange(q, 0, 4);
        float[][] secondQ = java.util.Arrays.copyOfRange(q, 4, 10);
        float[][] secondC = new float[10][];
        for (int j = 0; j < 10; j++) {
            secondC[j] = c[(j + 4) % 10];  // rows 4..9 first, then 0..3
        }
        assertEquals(loss(q, c), loss(firstQ, c) + loss(secondQ, secondC), 1e-4);
        Map<String, INDArray> whole = objectiveGradients(q, c);
        Map<String, INDArray> first = objectiveGradients(firstQ, c);
        Map<String, INDArray> second = objectiveGradients(secondQ, secondC);
        float[][] wholeQ = whole.get("q").toFloatMatrix();
        float[][] wholeC = whole.get("c").toFloatMatrix();
        float[][] gq1 = first.get("q").toFloatMatrix();
        float[][] gq2 = second.get("q").toFloatMatrix();
        float[][] gc1 = first.get("c").toFloatMatrix();
        float[][] gc2 = second.get("c").toFloatMatrix();
        for (int k = 0; k < d; k++) {
            for (int i = 0; i < 10; i++) {
                float sliceQ = i < 4 ? gq1[i][k] : gq2[i - 4][k];
                assertEquals(wholeQ[i][k], sliceQ, 1e-5, "dQ[" + i + "][" + k + "]");
                assertEquals(wholeC[i][k], gc1[i][k] + gc2[(i + 6) % 10][k], 1e-5, "dC[" + i + "][" + k + "]");
            }
        }
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
        double[][] fewer = java.util.Arrays.copyOf(q, 12);
        double expectedFewer = referenceLoss(fewer, c);
        assertEquals(expectedFewer, loss(toFloat(fewer), toFloat(c)), 1e-3 * Math.abs(expectedFewer));
    }
}
