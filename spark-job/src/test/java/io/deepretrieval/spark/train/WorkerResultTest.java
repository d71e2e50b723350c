package io.deepretrieval.spark.train;

import io.deepretrieval.model.train.ModelState;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

class WorkerResultTest {
    @Test
    void oneReplicaComesBackExactly() {
        float[] values = {0.1f, -3.3f, 1e-7f};
        float[] acc = {0.1f, 2.5f, 7f};
        WorkerResult sum = WorkerResult.empty().add(WorkerResult.of(new ModelState(values, acc), 1.5, 3, 777));
        ModelState avg = sum.average();
        assertArrayEquals(values, avg.values());
        assertArrayEquals(acc, avg.accumulators());
        assertEquals(777, sum.examples);
    }

    private static WorkerResult[] threeReplicas() {
        return new WorkerResult[]{
                WorkerResult.of(new ModelState(new float[]{1, 10}, new float[]{1, 1}), 2, 1, 100),
                WorkerResult.of(new ModelState(new float[]{3, 20}, new float[]{3, 5}), 4, 2, 300),
                WorkerResult.of(new ModelState(new float[]{5, 0}, new float[]{2, 2}), 6, 3, 100)};
    }

    @Test
    void replicasAreAveragedByTheirExamplesInAnyGrouping() {
        // (1*100 + 3*300 + 5*100) / 500 = 3; (10*100 + 20*300 + 0) / 500 = 14; accumulators 2.4, 3.6
        WorkerResult[] r = threeReplicas();
        WorkerResult left = WorkerResult.empty().add(r[0]).add(r[1]).add(WorkerResult.empty().add(r[2]));
        WorkerResult[] q = threeReplicas();
        WorkerResult right = q[0].add(q[1].add(q[2]));
        for (WorkerResult sum : new WorkerResult[]{left, right}) {
            assertArrayEquals(new float[]{3, 14}, sum.average().values(), 1e-6f);
            assertArrayEquals(new float[]{2.4f, 3.6f}, sum.average().accumulators(), 1e-6f);
            assertEquals(500, sum.examples);
            assertEquals(12, sum.lossSum, 1e-12);
            assertEquals(6, sum.batches);
        }
        WorkerResult one = threeReplicas()[0];
        assertSame(one, one.add(WorkerResult.empty()), "an empty result adds nothing");
    }
}
