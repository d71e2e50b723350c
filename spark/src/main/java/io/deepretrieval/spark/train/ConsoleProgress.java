package io.deepretrieval.spark.train;

import io.deepretrieval.model.train.CurvePoint;
import io.deepretrieval.model.train.TrainingListener;
import io.deepretrieval.model.io.ResidentMemory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;

/** Prints training progress: epoch, loss, examples/s and ETA per epoch, and each evaluation. */
public final class ConsoleProgress implements TrainingListener {
    private static final Logger LOG = LoggerFactory.getLogger("progress");
    private final String label;
    private final boolean evaluations;

    /** Progress of a run with validation rows: epochs and evaluations, each line starting with {@code label}. */
    public ConsoleProgress(String label) {
        this(label, true);
    }

    /**
     * Progress of a run; without validation rows ({@code evaluations} false) no evaluation is printed, since a
     * curve of zeros over no rows is not an accuracy.
     */
    public ConsoleProgress(String label, boolean evaluations) {
        this.label = label;
        this.evaluations = evaluations;
    }

    @Override
    public void epochDone(int epoch, int epochs, double meanLoss, double examplesPerSecond, double etaSeconds) {
        LOG.info(String.format(Locale.ROOT, "%s epoch %d/%d  loss %.1f  %,.0f examples/s  ETA %s  RSS %,d MB",
                label, epoch, epochs, meanLoss, examplesPerSecond, duration(etaSeconds),
                ResidentMemory.bytes() / (1024 * 1024)));
    }

    @Override
    public void evaluated(CurvePoint point) {
        if (!evaluations) {
            return;
        }
        LOG.info(String.format(Locale.ROOT, "%s epoch %d  %s", label, point.epoch(), point.accuracy()));
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, s / 60 % 60)
                : String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
}
