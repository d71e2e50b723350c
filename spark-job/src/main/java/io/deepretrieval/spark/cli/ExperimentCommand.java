package io.deepretrieval.spark.cli;

import io.deepretrieval.spark.SparkSessions;
import io.deepretrieval.spark.baseline.AlsBaseline;
import io.deepretrieval.spark.experiment.ObjectiveExperiment;
import io.deepretrieval.spark.experiment.Variant;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.LongStream;

/**
 * {@code experiment}: the retrieval-objective variants against tuned ALS, tuned item-to-item and the most-popular
 * ranking on the same splits and seeds (docs/estimator.md, "Retrieval quality"; docs/results.md, the protocols).
 */
@Command(name = "experiment", mixinStandardHelpOptions = true,
        description = "Tower objective variants, tuned ALS, item-to-item and most-popular over splits and seeds on a"
                + " MovieLens folder; resumable.")
final class ExperimentCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(ExperimentCommand.class);

    @Option(names = "--data", defaultValue = "data/ml-100k", description = "MovieLens folder or Hadoop URI (default: ${DEFAULT-VALUE})")
    String data;

    @Option(names = "--out", required = true, description = "results folder; an existing one is resumed (runs it holds are not rerun)")
    Path out;

    @Option(names = "--split", description = "random, temporal and/or last (leave-last-one per user; repeat;"
            + " default: random and temporal)")
    List<String> splits = new ArrayList<>();

    @Option(names = "--seed", defaultValue = "42", description = "first seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--seeds", defaultValue = "3", description = "seeds per split: seed, seed+1, ... (default: ${DEFAULT-VALUE})")
    int seeds;

    @Option(names = "--variant", completionCandidates = VariantNames.class, description = "tower variants to run,"
            + " in this order (repeat; default: all of ${COMPLETION-CANDIDATES})")
    List<String> variants = new ArrayList<>();

    @Option(names = "--no-baselines", description = "leave out the ALS, item-to-item and most-popular baselines")
    boolean noBaselines;

    @Option(names = "--epochs", defaultValue = "300", description = "epochs of fixed runs, most of early-stopped ones (default: ${DEFAULT-VALUE})")
    int epochs;

    @Option(names = "--eval-every", defaultValue = "5", description = "epochs between early-stopping checks (default: ${DEFAULT-VALUE})")
    int evalEvery;

    @Option(names = "--patience", defaultValue = "4", description = "checks without improvement before stopping (default: ${DEFAULT-VALUE})")
    int patience;

    @Option(names = "--test-fraction", defaultValue = "0.2", description = "held-out share (default: ${DEFAULT-VALUE})")
    double testFraction;

    @Option(names = "--stopping-fraction", defaultValue = "0.1", description = "share of the training rows that early"
            + " stopping and the baselines' tuning score on (default: ${DEFAULT-VALUE})")
    double stoppingFraction;

    // The defaults are AlsBaseline.Grid.EXPERIMENT's (ExperimentGridOptionsTest holds them to it).
    @Option(names = "--als-ranks", split = ",", defaultValue = "16,64,128", description = "ALS ranks tuned over (default: ${DEFAULT-VALUE})")
    List<Integer> alsRanks;

    @Option(names = "--als-regs", split = ",", defaultValue = "0.1,1.0", description = "ALS regularisation values tuned over (default: ${DEFAULT-VALUE})")
    List<Double> alsRegs;

    @Option(names = "--als-alphas", split = ",", defaultValue = "1,10,40", description = "ALS implicit-feedback alphas tuned over (default: ${DEFAULT-VALUE})")
    List<Double> alsAlphas;

    @Option(names = "--als-iters", split = ",", defaultValue = "10,20", description = "ALS iteration counts tuned over (default: ${DEFAULT-VALUE})")
    List<Integer> alsIters;

    @Option(names = "--master", defaultValue = "local[*]", description = "Spark master (default: ${DEFAULT-VALUE})")
    String master;

    @Override
    public Integer call() throws Exception {
        if (seeds < 1) {
            throw new IllegalArgumentException("--seeds " + seeds + ": must be >= 1");
        }
        OptionChecks.atLeast("--epochs", epochs, 1);
        OptionChecks.atLeast("--eval-every", evalEvery, 1);
        OptionChecks.atLeast("--patience", patience, 0);
        // The Estimator's validationFraction and earlyStoppingFraction ranges, which the towers are fitted with.
        OptionChecks.between("--test-fraction", testFraction, 0, 0.5);
        OptionChecks.between("--stopping-fraction", stoppingFraction, 0, 0.5);
        ObjectiveExperiment.Settings settings = new ObjectiveExperiment.Settings(data,
                splits.isEmpty() ? List.of("random", "temporal") : splits,
                LongStream.range(seed, seed + seeds).boxed().toList(),
                variants.isEmpty() ? Variant.DEFAULTS : Variant.named(variants), epochs, evalEvery, patience,
                testFraction, stoppingFraction, !noBaselines, alsGrid());
        try (SparkSession spark = SparkSessions.create(master, "deep-retrieval experiment")) {
            new ObjectiveExperiment(settings, ObjectiveExperiment.TOWERS_BY_QUERY).run(spark, out);
        }
        LOG.info("Experiment results: {}", out.resolve("summary.md").toAbsolutePath());
        return 0;
    }

    /** The ALS grid of the options; a bad value is an error naming them. */
    AlsBaseline.Grid alsGrid() {
        try {
            return new AlsBaseline.Grid(alsRanks, alsRegs, alsAlphas, alsIters);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--als-ranks / --als-regs / --als-alphas / --als-iters: " + e.getMessage(), e);
        }
    }

    /** The names --help lists: those of {@link Variant#DEFAULTS}, in their order. */
    static final class VariantNames implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return Variant.DEFAULTS.stream().map(Variant::name).iterator();
        }
    }
}
