package io.deepretrieval.model.task;

/**
 * Options of the in-batch softmax ({@link RetrievalLoss}) beyond the tutorial's plain form, each off by default:
 *
 * @param temperature          logits are divided by it (TFRS {@code Retrieval(temperature=...)}); 1 = none
 * @param removeAccidentalHits a batch candidate that is the row's own positive item under another position is
 *                             masked out of that row's softmax (TFRS {@code remove_accidental_hits})
 * @param logQCorrection       each candidate's logit is lowered by the log of its expected count among the
 *                             batch's candidates, from training frequencies (sampling-bias correction, Yi et al.,
 *                             RecSys 2019), so popular items are no longer over-penalised as negatives
 * @param mixedNegatives       this many uniformly sampled corpus items are added to every batch's candidates as
 *                             extra negatives (mixed negative sampling, Yang et al., WWW 2020); 0 = none
 */
public record RetrievalObjective(double temperature, boolean removeAccidentalHits, boolean logQCorrection,
                                 int mixedNegatives) implements java.io.Serializable {
    /** The tutorial's objective: plain in-batch softmax. */
    public static final RetrievalObjective TUTORIAL = new RetrievalObjective(1.0, false, false, 0);
    /** The logit the mask gives a removed candidate: its exp is 0 in float after the row-max shift. */
    public static final float MASKED_LOGIT = -1e9f;

    public RetrievalObjective {
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a positive number, got " + temperature);
        }
        if (mixedNegatives < 0) {
            throw new IllegalArgumentException("mixedNegatives must be >= 0, got " + mixedNegatives);
        }
    }

    /** Whether the loss takes a per-logit bias input (masking or correction). */
    public boolean biased() {
        return removeAccidentalHits || logQCorrection;
    }

    /** Whether this is the tutorial's plain objective. */
    public boolean plain() {
        return equals(TUTORIAL);
    }
}
