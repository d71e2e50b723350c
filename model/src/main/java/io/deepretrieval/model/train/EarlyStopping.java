package io.deepretrieval.model.train;

import io.deepretrieval.model.features.CandidateCorpus;
import io.deepretrieval.model.features.Interactions;
import io.deepretrieval.model.metrics.FactorizedTopK;
import io.deepretrieval.model.metrics.TopKAccuracy;
import io.deepretrieval.model.towers.TwoTowerModel;

import java.util.ArrayList;
import java.util.List;

/**
 * Early stopping as Keras's {@code EarlyStopping(patience, restore_best_weights=True)}: at every evaluation the
 * model is scored on a stopping slice held out of the training rows (never the test rows), the best state is kept,
 * and training stops after {@code patience} evaluations without a strictly better top-K. The stopping slice's
 * scores form their own curve, which a checkpoint keeps so that a resumed run stops where the uninterrupted one would.
 */
public final class EarlyStopping {
    private final int patience;
    private final int k;
    private final HeldOutRows slice;
    private final CandidateCorpus corpus;
    private final FactorizedTopK metric;
    private final List<CurvePoint> history = new ArrayList<>();
    private ModelState best;
    private int bestEpoch;
    private double bestScore = Double.NEGATIVE_INFINITY;
    private int sinceBest;

    /**
     * @param patience evaluations without improvement before stopping (>= 1)
     * @param k        the top-K accuracy monitored; one of {@code metric}'s Ks
     * @param slice    the stopping rows (not trained on)
     */
    public EarlyStopping(int patience, int k, Interactions slice, CandidateCorpus corpus, FactorizedTopK metric) {
        this(patience, k, HeldOutRows.inMemory(slice), corpus, metric);
    }

    /** As above, with the stopping rows wherever they live. */
    public EarlyStopping(int patience, int k, HeldOutRows slice, CandidateCorpus corpus, FactorizedTopK metric) {
        if (patience < 1) {
            throw new IllegalArgumentException("patience: must be >= 1 evaluation, got " + patience);
        }
        if (java.util.Arrays.stream(metric.ks()).noneMatch(v -> v == k)) {
            throw new IllegalArgumentException("k: " + k + " is not one of the metric's Ks "
                    + java.util.Arrays.toString(metric.ks()));
        }
        if (slice.size() == 0) {
            throw new IllegalArgumentException("the stopping slice holds no rows; early stopping needs some");
        }
        this.patience = patience;
        this.k = k;
        this.slice = slice;
        this.corpus = corpus;
        this.metric = metric;
    }

    /** Continues from a checkpoint: the stopping curve up to {@code epochsDone} and the best state it reached. */
    public void resume(List<CurvePoint> stoppingCurve, ModelState bestState, int epochsDone) {
        history.clear();
        best = null;
        bestEpoch = 0;
        bestScore = Double.NEGATIVE_INFINITY;
        sinceBest = 0;
        for (CurvePoint p : stoppingCurve) {
            // A stopping point newer than the model checkpoint is retrained and scored again.
            if (p.epoch() <= epochsDone) {
                record(p);
            }
        }
        if (bestEpoch > 0) {
            best = bestState;
        }
    }

    /** Scores the model after {@code epoch}; returns true when training should stop. */
    public boolean update(int epoch, double meanLoss, double trainSeconds, TwoTowerModel model) {
        TopKAccuracy score = slice.score(model, corpus, metric);
        if (record(new CurvePoint(epoch, meanLoss, score, trainSeconds))) {
            best = ModelState.of(model);
        }
        return stopped();
    }

    /** True when the last {@code patience} evaluations brought no improvement. */
    public boolean stopped() {
        return sinceBest >= patience;
    }

    private boolean record(CurvePoint p) {
        history.add(p);
        double s = p.accuracy().at(k);
        if (s > bestScore) {
            bestScore = s;
            bestEpoch = p.epoch();
            sinceBest = 0;
            return true;
        }
        sinceBest++;
        return false;
    }

    /** The epoch of the best stopping score (0 before the first evaluation). */
    public int bestEpoch() {
        return bestEpoch;
    }

    /** The best stopping top-K score. */
    public double bestScore() {
        return bestScore;
    }

    /** The model state at {@link #bestEpoch()} (null before the first evaluation). */
    public ModelState bestState() {
        return best;
    }

    /** The stopping slice's curve so far. */
    public List<CurvePoint> history() {
        return List.copyOf(history);
    }

    public int k() {
        return k;
    }

    public int patience() {
        return patience;
    }
}
