package io.deepretrieval.spark.report;

import io.deepretrieval.model.towers.ModelConfig;
import io.deepretrieval.model.train.CurvePoint;

import java.util.Arrays;
import java.util.List;

/**
 * The outcome of one depth setting (and, in a multi-seed sweep, one seed): its layer sizes, its curve, and
 * whether it completed.
 *
 * @param seed the initialisation and shuffling seed when the sweep runs several seeds, else null
 */
public record DepthResult(int[] layerSizes, Long seed, List<CurvePoint> curve, double trainSeconds, String failure) {
    public DepthResult(int[] layerSizes, List<CurvePoint> curve, double trainSeconds, String failure) {
        this(layerSizes, null, curve, trainSeconds, failure);
    }

    /** File-name label, e.g. "64_32" or "64_32_seed43". */
    public String label() {
        return ModelConfig.label(layerSizes) + (seed == null ? "" : "_seed" + seed);
    }

    /** Display name, e.g. "[64, 32]" or "[64, 32] seed 43". */
    public String displayName() {
        return Arrays.toString(layerSizes) + (seed == null ? "" : " seed " + seed);
    }

    public boolean completed() {
        return failure == null;
    }

    /** The last evaluated point, or null when nothing was evaluated. */
    public CurvePoint last() {
        return curve.isEmpty() ? null : curve.get(curve.size() - 1);
    }
}
