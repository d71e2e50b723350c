package io.deepretrieval.spark.train;

import java.io.Serializable;

/**
 * Where one replica's averaging round went, in nanoseconds: restoring the broadcast state, training steps, the
 * end-of-epoch GC and collecting the state to return. Merged results keep each phase's slowest replica, since
 * replicas run in parallel and the slowest one is on the round's critical path.
 */
record ReplicaTimes(long restoreNanos, long stepNanos, long gcNanos, long collectNanos) implements Serializable {
    static final ReplicaTimes NONE = new ReplicaTimes(0, 0, 0, 0);

    ReplicaTimes plus(ReplicaTimes other) {
        return new ReplicaTimes(restoreNanos + other.restoreNanos, stepNanos + other.stepNanos,
                gcNanos + other.gcNanos, collectNanos + other.collectNanos);
    }

    ReplicaTimes slowest(ReplicaTimes other) {
        return new ReplicaTimes(Math.max(restoreNanos, other.restoreNanos), Math.max(stepNanos, other.stepNanos),
                Math.max(gcNanos, other.gcNanos), Math.max(collectNanos, other.collectNanos));
    }
}
