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

    @Test
    void aSumKeepsEachPhaseOfItsSlowestReplica() {
        // Replicas run in parallel: per phase, the slowest one is on the round's critical path.
        WorkerResult[] r = threeReplicas();
        r[0].times = new ReplicaTimes(5, 100, 0, 1);
        r[1].times = new ReplicaTimes(2, 300, 7, 1);
        r[2].times = new ReplicaTimes(1, 200, 3, 9);
        assertEquals(new ReplicaTimes(5, 300, 7, 9), r[0].add(r[1]).add(WorkerResult.empty().add(r[2])).times);
    }

    @Test
    void roundTimerSplitsTheOverheadIntoItsParts() {
        ParameterAveraging.RoundTimer timer = new ParameterAveraging.RoundTimer();
        timer.add(1000, 30, new ReplicaTimes(20, 800, 50, 10));
        timer.add(1000, 10, new ReplicaTimes(20, 900, 0, 10));
        assertEquals(2, timer.rounds());
        assertEquals(1 - 1750 / 2000.0, timer.overheadShare(), 1e-12);
        assertEquals(50 / 2000.0, timer.gcShare(), 1e-12);
        assertEquals(40 / 2000.0, timer.broadcastShare(), 1e-12);
        assertEquals(40 / 2000.0, timer.restoreShare(), 1e-12);
        assertEquals(20 / 2000.0, timer.collectShare(), 1e-12);
        assertEquals(150 / 2000.0, timer.schedulingAndTransferShare(), 1e-12);
    }
}
