package io.deepretrieval.spark.ml;

import io.deepretrieval.model.train.CurvePoint;

import java.util.List;

/**
 * A fit that stopped before its last epoch (a NaN or infinite loss or parameter): the message says where, and the
 * validation curve up to the last good evaluation is kept, so that a caller such as the depth sweep can still
 * report it.
 */
public final class TrainingStoppedException extends IllegalStateException {
    private final transient List<CurvePoint> curve;

    TrainingStoppedException(String message, List<CurvePoint> curve) {
        super(message);
        this.curve = List.copyOf(curve);
    }

    /** The validation points evaluated before training stopped (empty without validation rows). */
    public List<CurvePoint> curve() {
        return curve;
    }
}
