package io.deepretrieval.spark.baseline;

import io.deepretrieval.model.metrics.FactorizedTopK;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AlsBaselineTest {
    private static final float[] ITEMS = {1, 0, 0, 1, 0, 0}; // [3, 2]: item 2 was never seen by ALS (zero factors)

    private static double[] accuracy(float[] queries, int n, int[] positives) {
        return new FactorizedTopK(1, 3).evaluate(Nd4j.create(queries, new long[]{n, 2}, 'c'),
                Nd4j.create(ITEMS, new long[]{3, 2}, 'c'), positives).accuracy();
    }

    @Test
    void aQueryWhoseUserHasNoFactorsIsAMissAtEveryK() {
        Map<Integer, float[]> users = Map.of(1, new float[]{1, 0}, 2, new float[]{0, 1});
        AlsBaseline.Queries q = AlsBaseline.queries(users, new int[]{1, 7, 2}, 2);
        assertEquals(1, q.withoutFactors());
        assertArrayEquals(new float[]{1, 0}, java.util.Arrays.copyOfRange(q.matrix(), 0, 2));
        assertTrue(Float.isNaN(q.matrix()[2]) && Float.isNaN(q.matrix()[3]));
        assertArrayEquals(new float[]{0, 1}, java.util.Arrays.copyOfRange(q.matrix(), 4, 6));
        int[] positives = {0, 0, 1};
        // Users 1 and 2 find their items first; user 7 misses even at K = 3 (all candidates).
        assertArrayEquals(new double[]{2 / 3.0, 2 / 3.0}, accuracy(q.matrix(), 3, positives), 1e-12);
        // What a zero row (the old fill) did: every candidate ties at 0, a hit at every K.
        float[] zeroRow = q.matrix().clone();
        zeroRow[2] = 0;
        zeroRow[3] = 0;
        assertArrayEquals(new double[]{1, 1}, accuracy(zeroRow, 3, positives), 1e-12);
    }
}
