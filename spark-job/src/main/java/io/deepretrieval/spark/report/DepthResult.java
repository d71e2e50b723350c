package io.deepretrieval.spark.report;

import io.deepretrieval.model.train.CurvePoint;

import java.util.List;

/** The outcome of one depth setting: its layer sizes, its curve, and whether it completed. */
public record DepthResult(int[] layerSizes, List<CurvePoint> curve, double trainSeconds, String failure) {
    public String label() {
        return io.deepretrieval.model.towers.ModelConfig.label(layerSizes);
    }

    public boolean completed() {
        return failure == null;
    }

    /** The last evaluated point, or null when nothing was evaluated. */
    public CurvePoint last() {
        return curve.isEmpty() ? null : curve.get(curve.size() - 1);
    }
}
