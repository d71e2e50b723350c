package io.deepretrieval.spark.train;

import io.deepretrieval.model.features.CandidateCorpus;
import io.deepretrieval.model.features.FeatureSpec;
import io.deepretrieval.model.features.Interactions;
import io.deepretrieval.model.metrics.FactorizedTopK;
import io.deepretrieval.model.towers.ModelConfig;
import io.deepretrieval.model.towers.TwoTowerModel;
import io.deepretrieval.model.train.Checkpoint;
import io.deepretrieval.model.train.CurvePoint;
import io.deepretrieval.model.train.EarlyStopping;
import io.deepretrieval.model.train.HeldOutRows;
import io.deepretrieval.model.train.LocalTrainer;
import io.deepretrieval.model.train.ModelState;
import io.deepretrieval.model.train.ParameterLayout;
import io.deepretrieval.model.train.NumericFault;
import io.deepretrieval.model.train.TrainingListener;
import io.deepretrieval.model.train.TrainingOptions;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * One training run as the sweep and the Estimator both do it: a fresh model, resumed from its checkpoint when one
 * exists, trained in the driver JVM or by {@link ParameterAveraging}, with a checkpoint written after every
 * evaluation; a {@link NumericFault} ends the run with the last good checkpoint kept.
 */
public final class CheckpointedTraining {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointedTraining.class);

    private CheckpointedTraining() {
    }

    /**
     * What a run produced: the trained model (with early stopping: its best state), its curve, and the numeric
     * fault that stopped it (or null).
     */
    public record Result(TwoTowerModel model, List<CurvePoint> curve, String failure) {
        public boolean completed() {
            return failure == null;
        }
    }

    /**
     * @param localTrain     the training rows in the driver (asked for only when {@code distributed} is null)
     * @param trainRows      the training rows as a DataFrame (used only when {@code distributed} is set)
     * @param distributed    null: train in the driver JVM
     * @param checkpointFile null: no checkpoints
     */
    public static Result run(ModelConfig modelConfig, FeatureSpec spec, CandidateCorpus corpus,
                             Supplier<Interactions> localTrain, Dataset<Row> trainRows, HeldOutRows validation,
                             TrainingOptions training, DistributedOptions distributed, FactorizedTopK metric,
                             Path checkpointFile, TrainingListener progress, String label) throws IOException {
        return run(modelConfig, spec, corpus, localTrain, trainRows, validation, training, distributed, metric,
                checkpointFile, progress, label, null);
    }

    /**
     * As above, with {@code stopping} (or null) scoring a stopping slice at every evaluation: training ends when it
     * says so and the model gets its best state. With checkpoints, the stopping curve and best state are kept in a
     * second file beside the checkpoint ({@code <checkpoint>.best}).
     */
    public static Result run(ModelConfig modelConfig, FeatureSpec spec, CandidateCorpus corpus,
                             Supplier<Interactions> localTrain, Dataset<Row> trainRows, HeldOutRows validation,
                             TrainingOptions training, DistributedOptions distributed, FactorizedTopK metric,
                             Path checkpointFile, TrainingListener progress, String label, EarlyStopping stopping)
            throws IOException {
        int[] layers = modelConfig.layerSizes();
        long shuffleSeed = training.shuffleSeed();
        TwoTowerModel model = new TwoTowerModel(modelConfig, spec);
        List<CurvePoint> curve = new ArrayList<>();
        int epochsDone = 0;
        if (checkpointFile != null && Files.exists(checkpointFile)) {
            Checkpoint ck = Checkpoint.read(checkpointFile);
            if (!Arrays.equals(ck.layerSizes(), layers) || ck.shuffleSeed() != shuffleSeed) {
                throw new IllegalArgumentException(checkpointFile + " belongs to other settings (layers "
                        + Arrays.toString(ck.layerSizes()) + ", seed " + ck.shuffleSeed() + "); use another checkpoint folder");
            }
            ck.state().applyTo(model, checkpointFile.toString());
            epochsDone = ck.epoch();
            curve.addAll(ck.curve());
            LOG.info("Resuming {} from its checkpoint after epoch {}", label, epochsDone);
            Path bestFile = bestFile(checkpointFile);
            if (stopping != null && Files.exists(bestFile)) {
                Checkpoint best = Checkpoint.read(bestFile);
                // Checked now, naming its file, rather than when early stopping restores it at the end.
                best.state().layout().verify(ParameterLayout.of(model), bestFile.toString());
                stopping.resume(best.curve(), best.state(), epochsDone);
            }
        }
        if (stopping != null && stopping.stopped()) {
            // The interrupted run had already stopped: nothing is left to train.
            stopping.bestState().applyTo(model);
            return new Result(model, curve, null);
        }
        TrainingListener listener = new TrainingListener() {
            @Override
            public void epochDone(int epoch, int epochs, double loss, double eps, double eta) {
                progress.epochDone(epoch, epochs, loss, eps, eta);
            }

            @Override
            public boolean stopRequested() {
                return stopping != null && stopping.stopped();
            }

            @Override
            public void evaluated(CurvePoint point) {
                curve.add(point);
                progress.evaluated(point);
                if (stopping != null) {
                    stopping.update(point.epoch(), point.meanLoss(), point.trainSeconds(), model);
                    CurvePoint last = stopping.history().get(stopping.history().size() - 1);
                    LOG.info("{} epoch {}: stopping slice top-{} {} (best {} after epoch {}{})", label, point.epoch(),
                            stopping.k(), String.format(java.util.Locale.ROOT, "%.4f", last.accuracy().at(stopping.k())),
                            String.format(java.util.Locale.ROOT, "%.4f", stopping.bestScore()), stopping.bestEpoch(),
                            stopping.stopped() ? "; stopping" : "");
                }
                if (checkpointFile != null) {
                    try {
                        if (stopping != null) {
                            // Written first: a crash between the two files leaves a stopping curve one point ahead,
                            // which resume drops, rather than one behind.
                            new Checkpoint(stopping.bestEpoch(), shuffleSeed, layers, stopping.history(),
                                    stopping.bestState()).write(bestFile(checkpointFile));
                        }
                        new Checkpoint(point.epoch(), shuffleSeed, layers, curve, ModelState.of(model)).write(checkpointFile);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException("cannot write checkpoint " + checkpointFile, e);
                    }
                }
            }
        };
        String failure = null;
        try {
            List<CurvePoint> before = List.copyOf(curve);
            if (distributed == null) {
                new LocalTrainer(training, metric, listener).fit(model, corpus, localTrain.get(), validation, epochsDone, before);
            } else {
                new ParameterAveraging(distributed, training, metric, listener)
                        .fit(model, spec, corpus, trainRows, validation, epochsDone, before);
            }
        } catch (NumericFault e) {
            failure = e.getMessage();
            LOG.error("{} stopped: {}", label, failure);
        }
        if (failure == null && stopping != null && stopping.bestState() != null) {
            stopping.bestState().applyTo(model);
            LOG.info("{}: best stopping-slice top-{} {} after epoch {}; the model has that epoch's parameters", label,
                    stopping.k(), String.format(java.util.Locale.ROOT, "%.4f", stopping.bestScore()), stopping.bestEpoch());
        }
        return new Result(model, curve, failure);
    }

    /** Where the early-stopping state of {@code checkpointFile} lives. */
    static Path bestFile(Path checkpointFile) {
        return checkpointFile.resolveSibling(checkpointFile.getFileName() + ".best");
    }
}
