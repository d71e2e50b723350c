package io.deepretrieval.model.features;

import java.util.List;
import java.util.SplittableRandom;

/**
 * ID dropout for cold-start queries: during training, each example's id in one categorical query feature is
 * replaced by the out-of-vocabulary index 0 with probability {@code rate}. Index 0 is what a user unseen in training
 * gets at serving time; without dropout its embedding row is never trained and stays at its random initialisation,
 * and an unknown user's query rests on the other features and the dense layers' biases alone. With it, row 0 learns
 * the average user (with logQ correction, close to the popularity prior). On ML-100k's temporal split it did not
 * help (README, "Objective options").
 *
 * @param feature the query feature's name (e.g. {@code user}); ignored when {@code rate} is 0
 * @param rate    share of training examples whose id is dropped, in [0, 1); 0 = off
 */
public record IdDropout(String feature, double rate) implements java.io.Serializable {
    /** No dropout. */
    public static final IdDropout NONE = new IdDropout("", 0);

    public IdDropout {
        if (!(rate >= 0 && rate < 1)) {
            throw new IllegalArgumentException("id dropout rate must be in [0, 1), got " + rate);
        }
        if (rate > 0 && (feature == null || feature.isEmpty())) {
            throw new IllegalArgumentException("id dropout needs the name of a categorical query feature");
        }
        feature = feature == null ? "" : feature;
    }

    public boolean active() {
        return rate > 0;
    }

    /**
     * The position of {@link #feature} among {@code query}'s features, checked to be a categorical one (an id per
     * row); -1 when dropout is off.
     */
    public int position(List<FittedFeature> query) {
        if (!active()) {
            return -1;
        }
        for (int f = 0; f < query.size(); f++) {
            if (query.get(f).name().equals(feature)) {
                if (query.get(f).kind() != FeatureConfig.Kind.CATEGORICAL) {
                    throw new IllegalArgumentException("id dropout feature '" + feature + "' is "
                            + query.get(f).kind() + "; it must be categorical");
                }
                return f;
            }
        }
        throw new IllegalArgumentException("id dropout feature '" + feature + "' is not a query feature (have "
                + query.stream().map(FittedFeature::name).toList() + ")");
    }

    /**
     * {@code batch} with the ids of feature {@code position} dropped to 0 row by row; the draw is seeded by
     * {@code seed} and the batch's own candidates, so a resumed or repeated run drops the same rows.
     */
    public Interactions apply(Interactions batch, int position, long seed) {
        if (!active()) {
            return batch;
        }
        SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + java.util.Arrays.hashCode(batch.candidate()));
        boolean[] drop = new boolean[batch.size()];
        for (int r = 0; r < drop.length; r++) {
            drop[r] = rng.nextDouble() < rate;
        }
        return new Interactions(batch.query().withIdsDropped(position, drop), batch.candidate());
    }
}
