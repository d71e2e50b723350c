package io.deepretrieval.spark.train;

import io.deepretrieval.model.train.ModelState;
import io.deepretrieval.model.train.ParameterLayout;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

class WorkerResultTest {
    /** A flat state of one table (3 rows of width 2, at offset 0) and one dense parameter of 2 values (offset 6). */
    private static final StateLayout LAYOUT = new StateLayout(new int[]{0}, new int[]{2}, new int[]{6}, new int[]{2}, 8);
    private static final ModelState BASE = new ModelState(new ParameterLayout(List.of(
            new ParameterLayout.Entry("table", new long[]{3, 2}), new ParameterLayout.Entry("dense", new long[]{2}))),
            new float[]{0, 0, 1, 1, 2, 2, 9, 9}, new float[]{.1f, .1f, .1f, .1f, .1f, .1f, .1f, .1f});

    private static WorkerResult replica(float[] dense, float[] denseAcc, int[] rows, float[] values, float[] acc,
                                        int[] updates, double loss, long batches, long examples) {
        return WorkerResult.of(dense, denseAcc, new WorkerResult.TableRows[]{
                new WorkerResult.TableRows(2, rows, values, acc, updates)}, loss, batches, examples);
    }

    @Test
    void oneReplicaComesBackExactlyAndLeavesRowsItDidNotUpdate() {
        WorkerResult one = replica(new float[]{0.1f, -3.3f}, new float[]{7f, 1e-7f}, new int[]{1},
                new float[]{1.5f, -1.25f}, new float[]{0.3f, 0.4f}, new int[]{3}, 1.5, 3, 777);
        WorkerResult sum = WorkerResult.empty().add(one);
        ModelState avg = sum.average(BASE, LAYOUT);
        assertArrayEquals(new float[]{0, 0, 1.5f, -1.25f, 2, 2, 0.1f, -3.3f}, avg.values());
        assertArrayEquals(new float[]{.1f, .1f, 0.3f, 0.4f, .1f, .1f, 7f, 1e-7f}, avg.accumulators());
        assertEquals(777, sum.examples);
        assertEquals(8 * 2 + (4 + 4 + 8 * 2), sum.shippedBytes, "dense values and accumulators, one row with its id and count");
    }

    private static WorkerResult[] threeReplicas() {
        // Row 0: replicas 0 (1 update) and 1 (3 updates); row 1: replica 2 alone; row 2: nobody.
        return new WorkerResult[]{
                replica(new float[]{1, 10}, new float[]{1, 1}, new int[]{0}, new float[]{4, 8}, new float[]{1, 2}, new int[]{1}, 2, 1, 100),
                replica(new float[]{3, 20}, new float[]{3, 5}, new int[]{0}, new float[]{0, 4}, new float[]{5, 6}, new int[]{3}, 4, 2, 300),
                replica(new float[]{5, 0}, new float[]{2, 2}, new int[]{1}, new float[]{-7, 7}, new float[]{8, 9}, new int[]{2}, 6, 3, 100)};
    }

    @Test
    void denseLayersAverageByExamplesRowsByTheUpdatesOfTheReplicasThatTouchedThemInAnyGrouping() {
        WorkerResult[] r = threeReplicas();
        WorkerResult left = WorkerResult.empty().add(r[0]).add(r[1]).add(WorkerResult.empty().add(r[2]));
        WorkerResult[] q = threeReplicas();
        WorkerResult right = q[0].add(q[1].add(q[2]));
        for (WorkerResult sum : new WorkerResult[]{left, right}) {
            ModelState avg = sum.average(BASE, LAYOUT);
            // Row 0: (4*1 + 0*3) / 4 = 1, (8*1 + 4*3) / 4 = 5; row 1: replica 2's own; row 2: the base.
            // Dense: (1*100 + 3*300 + 5*100) / 500 = 3, (10*100 + 20*300 + 0) / 500 = 14.
            assertArrayEquals(new float[]{1, 5, -7, 7, 2, 2, 3, 14}, avg.values(), 1e-6f);
            assertArrayEquals(new float[]{4, 5, 8, 9, .1f, .1f, 2.4f, 3.6f}, avg.accumulators(), 1e-6f);
            assertEquals(500, sum.examples);
            assertEquals(12, sum.lossSum, 1e-12);
            assertEquals(6, sum.batches);
            assertEquals(3, sum.replicas);
            assertEquals(3 * (8 * 2 + 24), sum.shippedBytes);
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
        timer.add(1000, 30, new ReplicaTimes(20, 800, 50, 10), 100, 400);
        timer.add(1000, 10, new ReplicaTimes(20, 900, 0, 10), 300, 400);
        assertEquals(2, timer.rounds());
        assertEquals(1 - 1750 / 2000.0, timer.overheadShare(), 1e-12);
        assertEquals(50 / 2000.0, timer.gcShare(), 1e-12);
        assertEquals(40 / 2000.0, timer.broadcastShare(), 1e-12);
        assertEquals(40 / 2000.0, timer.restoreShare(), 1e-12);
        assertEquals(20 / 2000.0, timer.collectShare(), 1e-12);
        assertEquals(150 / 2000.0, timer.schedulingAndTransferShare(), 1e-12);
        assertEquals(200, timer.shippedBytesPerRound(), 1e-12);
        assertEquals(400, timer.wholeStateBytesPerRound(), 1e-12);
        assertEquals(1e-6, timer.secondsPerRound(), 1e-15);
    }
}
