package io.deepretrieval.model.features;

import java.util.List;

/**
 * One tower's encoded inputs for a set of rows, feature by feature in the tower's order: table ids (one per row,
 * or {@link FittedFeature#width()} per row for text and histories, with the masked mean's weights) and normalised
 * values.
 */
public final class FeatureColumns implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private final int rows;
    private final int[] widths;
    /** Per feature: rows × width ids, or null (numeric). */
    private final int[][] ids;
    /** Per feature: rows × width weights for text (1/count on real tokens, 0 on padding), else null. */
    private final float[][] weights;
    /** Per feature: one normalised value per row for numeric and timestamp features, else null. */
    private final float[][] values;

    public FeatureColumns(int rows, int[] widths, int[][] ids, float[][] weights, float[][] values) {
        int n = widths.length;
        if (ids.length != n || weights.length != n || values.length != n) {
            throw new IllegalArgumentException("feature columns differ in count");
        }
        for (int f = 0; f < n; f++) {
            if ((ids[f] != null && ids[f].length != (long) rows * widths[f])
                    || (weights[f] != null && weights[f].length != (long) rows * widths[f])
                    || (values[f] != null && values[f].length != rows)) {
                throw new IllegalArgumentException("feature column " + f + " does not hold " + rows + " rows");
            }
        }
        this.rows = rows;
        this.widths = widths.clone();
        this.ids = ids;
        this.weights = weights;
        this.values = values;
    }

    /** Reads raw values by (row, feature position). */
    @FunctionalInterface
    public interface Values {
        Object get(int row, int feature);
    }

    /** Encodes {@code rows} rows of raw values with the fitted features. */
    public static FeatureColumns encode(List<FittedFeature> features, int rows, Values raw) {
        int n = features.size();
        int[] widths = new int[n];
        int[][] ids = new int[n][];
        float[][] weights = new float[n][];
        float[][] values = new float[n][];
        for (int f = 0; f < n; f++) {
            FittedFeature feature = features.get(f);
            int w = feature.width();
            widths[f] = w;
            if (feature.embedded()) {
                ids[f] = new int[Math.multiplyExact(rows, w)];
            }
            if (feature.pooled()) {
                weights[f] = new float[ids[f].length];
            }
            if (feature.valued()) {
                values[f] = new float[rows];
            }
            for (int r = 0; r < rows; r++) {
                Object v = raw.get(r, f);
                switch (feature.kind()) {
                    case CATEGORICAL -> ids[f][r] = feature.index(v);
                    case TEXT, HISTORY -> {
                        int[] tokens = feature.kind() == FeatureConfig.Kind.TEXT ? feature.tokenIds(v) : feature.historyIds(v);
                        for (int t = 0; t < tokens.length; t++) {
                            ids[f][r * w + t] = tokens[t];
                            weights[f][r * w + t] = 1f / tokens.length;
                        }
                    }
                    case TIMESTAMP -> {
                        double s = FittedFeature.seconds(feature, v);
                        ids[f][r] = feature.bucket(s);
                        values[f][r] = feature.normalized(s);
                    }
                    case NUMERIC -> values[f][r] = feature.normalized(FittedFeature.number(feature, v));
                }
            }
        }
        return new FeatureColumns(rows, widths, ids, weights, values);
    }

    public int rows() {
        return rows;
    }

    public int features() {
        return widths.length;
    }

    public int width(int feature) {
        return widths[feature];
    }

    /** The table ids of a feature (rows × width), or null when it has no table. */
    public int[] ids(int feature) {
        return ids[feature];
    }

    /** The token weights of a text feature (rows × width), or null. */
    public float[] weights(int feature) {
        return weights[feature];
    }

    /** The normalised values of a numeric or timestamp feature, or null. */
    public float[] values(int feature) {
        return values[feature];
    }

    /**
     * These columns with feature {@code feature}'s id set to 0 (out of vocabulary) on the rows {@code drop} marks;
     * the other features' arrays are shared, not copied. The feature must have one id per row.
     */
    public FeatureColumns withIdsDropped(int feature, boolean[] drop) {
        if (ids[feature] == null || widths[feature] != 1 || drop.length != rows) {
            throw new IllegalArgumentException("feature " + feature + " has no single id per row to drop");
        }
        int[][] changed = ids.clone();
        changed[feature] = ids[feature].clone();
        for (int r = 0; r < rows; r++) {
            if (drop[r]) {
                changed[feature][r] = 0;
            }
        }
        return new FeatureColumns(rows, widths, changed, weights, values);
    }

    /** The rows of several column sets of the same features, in order. */
    public static FeatureColumns concat(List<FeatureColumns> parts) {
        FeatureColumns first = parts.get(0);
        int n = first.widths.length;
        int rows = parts.stream().mapToInt(FeatureColumns::rows).sum();
        int[][] ids = new int[n][];
        float[][] weights = new float[n][];
        float[][] values = new float[n][];
        for (int f = 0; f < n; f++) {
            int w = first.widths[f];
            ids[f] = first.ids[f] == null ? null : new int[Math.multiplyExact(rows, w)];
            weights[f] = first.weights[f] == null ? null : new float[rows * w];
            values[f] = first.values[f] == null ? null : new float[rows];
            int at = 0;
            for (FeatureColumns p : parts) {
                if (ids[f] != null) {
                    System.arraycopy(p.ids[f], 0, ids[f], at * w, p.rows * w);
                }
                if (weights[f] != null) {
                    System.arraycopy(p.weights[f], 0, weights[f], at * w, p.rows * w);
                }
                if (values[f] != null) {
                    System.arraycopy(p.values[f], 0, values[f], at, p.rows);
                }
                at += p.rows;
            }
        }
        return new FeatureColumns(rows, first.widths, ids, weights, values);
    }

    /** Rows {@code order[from..to)} (or {@code from..to} when {@code order} is null), as new columns. */
    public FeatureColumns select(int[] order, int from, int to) {
        int[] rowsWanted = new int[to - from];
        for (int i = 0; i < rowsWanted.length; i++) {
            rowsWanted[i] = order == null ? from + i : order[from + i];
        }
        return gather(rowsWanted);
    }

    /** The given rows, in that order, as new columns. */
    public FeatureColumns gather(int[] wanted) {
        int n = widths.length;
        int[][] i2 = new int[n][];
        float[][] w2 = new float[n][];
        float[][] v2 = new float[n][];
        for (int f = 0; f < n; f++) {
            int w = widths[f];
            if (ids[f] != null) {
                i2[f] = new int[Math.multiplyExact(wanted.length, w)];
            }
            if (weights[f] != null) {
                w2[f] = new float[i2[f].length];
            }
            if (values[f] != null) {
                v2[f] = new float[wanted.length];
            }
            for (int i = 0; i < wanted.length; i++) {
                int r = wanted[i];
                if (i2[f] != null) {
                    System.arraycopy(ids[f], r * w, i2[f], i * w, w);
                }
                if (w2[f] != null) {
                    System.arraycopy(weights[f], r * w, w2[f], i * w, w);
                }
                if (v2[f] != null) {
                    v2[f][i] = values[f][r];
                }
            }
        }
        return new FeatureColumns(wanted.length, widths, i2, w2, v2);
    }
}
