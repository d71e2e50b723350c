package io.deepretrieval.model.train;

/** Receives progress from a trainer; the console reporter and tests implement it. */
public interface TrainingListener {
    /** After each epoch: its mean batch loss, its speed, and the projected time left. */
    default void epochDone(int epoch, int epochs, double meanLoss, double examplesPerSecond, double etaSeconds) {
    }

    /** After each evaluation. */
    default void evaluated(CurvePoint point) {
    }

    /** Asked after each evaluation: true ends training there (early stopping). */
    default boolean stopRequested() {
        return false;
    }

    TrainingListener NONE = new TrainingListener() {
    };
}
