package io.deepretrieval.model.train;

import io.deepretrieval.model.features.CandidateCorpus;
import io.deepretrieval.model.features.Interactions;
import io.deepretrieval.model.metrics.FactorizedTopK;
import io.deepretrieval.model.metrics.TopKAccuracy;
import io.deepretrieval.model.towers.TwoTowerModel;

import java.util.ArrayList;
import java.util.List;

/** Trains a {@link TwoTowerModel} in one JVM: shuffled minibatches each epoch, evaluated on a test set on schedule. */
public final class LocalTrainer {
    private final TrainingOptions options;
    private final FactorizedTopK metric;
    private final TrainingListener listener;

    public LocalTrainer(TrainingOptions options, FactorizedTopK metric, TrainingListener listener) {
        this.options = options;
        this.metric = metric;
        this.listener = listener;
    }

    /** Trains from the model's current state and returns the accuracy curve. */
    public List<CurvePoint> fit(TwoTowerModel model, CandidateCorpus corpus, Interactions train, Interactions test) {
        return fit(model, corpus, train, test, 0, List.of());
    }

    /**
     * Continues training after {@code epochsDone} epochs (the model holds the state reached then, e.g. from a
     * {@link Checkpoint}); {@code curveSoFar} is the curve up to that epoch. Returns the whole curve.
     */
    public List<CurvePoint> fit(TwoTowerModel model, CandidateCorpus corpus, Interactions train, Interactions test,
                                int epochsDone, List<CurvePoint> curveSoFar) {
        return fit(model, corpus, train, HeldOutRows.inMemory(test), epochsDone, curveSoFar);
    }

    /** As above, scoring held-out rows wherever they live. */
    public List<CurvePoint> fit(TwoTowerModel model, CandidateCorpus corpus, Interactions train, HeldOutRows test,
                                int epochsDone, List<CurvePoint> curveSoFar) {
        try (TrainingStep step = new TrainingStep(model, corpus, options.stepThreads())) {
            // Start from a collected heap: what preprocessing left behind would otherwise stack on the first steps'
            // buffers (measured on 10M ratings: resident memory peaked ~1 GB above its training level there).
            step.collectGarbage();
            step.candidateFrequencies(train);
            return fit(step, model, corpus, train, test, epochsDone, curveSoFar);
        }
    }

    private List<CurvePoint> fit(TrainingStep step, TwoTowerModel model, CandidateCorpus corpus, Interactions train,
                                 HeldOutRows test, int epochsDone, List<CurvePoint> curveSoFar) {
        List<CurvePoint> curve = new ArrayList<>(curveSoFar);
        double trainSeconds = curveSoFar.isEmpty() ? 0 : curveSoFar.get(curveSoFar.size() - 1).trainSeconds();
        double runSeconds = 0;
        for (int epoch = epochsDone + 1; epoch <= options.epochs(); epoch++) {
            long start = System.nanoTime();
            double meanLoss = runEpoch(step, train, epoch);
            double seconds = (System.nanoTime() - start) / 1e9;
            trainSeconds += seconds;
            // Native buffers of dead arrays are freed only when the JVM collects their owners; one collection per
            // epoch (and every 100 steps within long epochs) keeps resident memory flat at little cost.
            step.collectGarbage();
            runSeconds += seconds;
            double eta = runSeconds / (epoch - epochsDone) * (options.epochs() - epoch);
            listener.epochDone(epoch, options.epochs(), meanLoss, train.size() / seconds, eta);
            if (options.evaluatesAfter(epoch)) {
                CurvePoint point = new CurvePoint(epoch, meanLoss, test.score(model, corpus, metric), trainSeconds);
                curve.add(point);
                listener.evaluated(point);
                if (listener.stopRequested()) {
                    break;
                }
            }
        }
        return curve;
    }

    /** One pass over the training rows in this epoch's order; returns the mean summed-batch loss. */
    public double runEpoch(TrainingStep step, Interactions train, int epoch) {
        int[] order = EpochShuffle.order(train.size(), options.shuffleSeed(), epoch);
        step.startEpoch(epoch);
        double lossSum = 0;
        int batches = 0;
        for (int from = 0; from < train.size(); from += options.batchSize()) {
            int to = Math.min(train.size(), from + options.batchSize());
            try {
                lossSum += step.run(train.select(order, from, to));
            } catch (NumericFault e) {
                throw new NumericFault("epoch " + epoch + ", step " + (batches + 1) + ": " + e.getMessage());
            }
            batches++;
        }
        return lossSum / batches;
    }

    /**
     * Top-K accuracy of the test queries against every candidate record. Candidate embeddings are computed once;
     * query embeddings block by block, so memory does not grow with the number of test queries.
     */
    public TopKAccuracy evaluate(TwoTowerModel model, CandidateCorpus corpus, Interactions test) {
        return HeldOutRows.inMemory(test).score(model, corpus, metric);
    }
}
