package io.deepretrieval.spark.experiment;

import com.fasterxml.jackson.databind.JsonNode;
import io.deepretrieval.model.io.AtomicFiles;
import io.deepretrieval.model.metrics.FactorizedTopK;
import io.deepretrieval.model.metrics.TopKAccuracy;
import io.deepretrieval.model.train.CurvePoint;
import io.deepretrieval.spark.baseline.AlsBaseline;
import io.deepretrieval.spark.baseline.PopularityBaseline;
import io.deepretrieval.spark.eval.RankingMetrics;
import io.deepretrieval.spark.ingest.InputPolicy;
import io.deepretrieval.spark.ingest.MovieLensData;
import io.deepretrieval.spark.ingest.MovieLensReader;
import io.deepretrieval.spark.ml.TwoTowerRetrieval;
import io.deepretrieval.spark.ml.TwoTowerRetrievalModel;
import io.deepretrieval.spark.preprocess.InteractionSplits;
import io.deepretrieval.spark.report.CurveFiles;
import io.deepretrieval.spark.baseline.IndexedPairs;
import io.deepretrieval.spark.preprocess.CountedJoin;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.apache.spark.sql.functions.col;

/**
 * The retrieval-quality experiment on a MovieLens folder: for each split (random, temporal) and seed, every tower
 * {@link Variant} through the Estimator and Spark's ALS tuned on the same stopping slice, all scored on the same
 * held-out rows (top-K accuracy over every candidate as in the tutorial, and per-user recall@10 / NDCG@10 with
 * training items left out). Each finished run is appended to {@code results.json} and the report rewritten, so an
 * interrupted experiment resumes where it stopped when started again on the same folder.
 */
public final class ObjectiveExperiment {
    private static final Logger LOG = LoggerFactory.getLogger(ObjectiveExperiment.class);
    /** The name of the ALS rows. */
    public static final String ALS = "als";
    /** The name of the most-popular rows. */
    public static final String POPULARITY = "popularity";
    private static final int RANKING_K = 10;

    /** What to run. */
    public record Settings(String data, List<String> splits, List<Long> seeds, List<Variant> variants, int epochs,
                           int evalEvery, int patience, double testFraction, double stoppingFraction, boolean baselines,
                           AlsBaseline.Grid alsGrid) {
        public Settings {
            for (String s : splits) {
                if (!s.equals("random") && !s.equals("temporal")) {
                    throw new IllegalArgumentException("--split " + s + ": must be random or temporal");
                }
            }
            if (seeds.isEmpty() || splits.isEmpty()) {
                throw new IllegalArgumentException("the experiment needs at least one split and one seed");
            }
        }
    }

    /** One finished run: the test figures of one model on one split and seed. */
    public record Run(String split, long seed, String model, double top10, double top50, double top100,
                      double recall10, double ndcg10, long testUsers, int epochs, double stoppingTop100,
                      double seconds, String detail) {
        boolean same(String split, long seed, String model) {
            return this.split.equals(split) && this.seed == seed && this.model.equals(model);
        }
    }

    private final Settings settings;

    public ObjectiveExperiment(Settings settings) {
        this.settings = settings;
    }

    /** Runs what {@code dir} does not hold yet and returns every run of the folder. */
    public List<Run> run(SparkSession spark, Path dir) throws IOException {
        Files.createDirectories(dir);
        Path resultsFile = dir.resolve("results.json");
        List<Run> runs = new ArrayList<>(read(resultsFile));
        MovieLensReader reader = new MovieLensReader(spark, InputPolicy.FAIL_FAST);
        MovieLensData data = reader.read(settings.data());
        Dataset<Row> table = CountedJoin.join(data.ratings(), data.movies(), "movie_id", true, "--data movies").rows();
        if (settings.variants().stream().anyMatch(Variant::sideFeatures)) {
            // Only the side-feature variants read these columns; the others' features are the tutorial's.
            MovieLensReader.SideFeatures side = reader.readSideFeatures(settings.data());
            if (side.users() == null) {
                throw new IllegalArgumentException("--data " + settings.data() + ": the side-feature variants need"
                        + " the users' demographics (u.user or users.dat), which this release lacks");
            }
            table = CountedJoin.join(table, side.genres(), "movie_id", true, "--data genres").rows();
            table = CountedJoin.join(table, side.users(), "user_id", true, "--data users").rows();
        }
        table = table.cache();
        LOG.info("Experiment on {}: {} ratings; splits {}, seeds {}, variants {}{}", settings.data(), table.count(),
                settings.splits(), settings.seeds(), settings.variants().stream().map(Variant::name).toList(),
                settings.baselines() ? " and the ALS and popularity baselines" : "");
        List<String> models = new ArrayList<>();
        if (settings.baselines()) {
            models.add(ALS);
            models.add(POPULARITY);
        }
        settings.variants().forEach(v -> models.add(v.name()));
        // Model by model over every split and seed: the cheap, informative comparisons finish first.
        for (String model : models) {
            for (String split : settings.splits()) {
                for (long seed : settings.seeds()) {
                    if (runs.stream().anyMatch(r -> r.same(split, seed, model))) {
                        continue;
                    }
                    LOG.info("=== {} on the {} split, seed {} ===", model, split, seed);
                    long start = System.nanoTime();
                    Run r = model.equals(ALS) ? als(table, split, seed, start)
                            : model.equals(POPULARITY) ? popularity(table, split, seed, start)
                            : tower(table, split, seed, Variant.named(List.of(model)).get(0), start);
                    LOG.info("{} {} seed {}: top-100 {}, recall@10 {}, NDCG@10 {} ({} epochs, {} s)", model, split, seed,
                            f(r.top100()), f(r.recall10()), f(r.ndcg10()), r.epochs(), Math.round(r.seconds()));
                    runs.add(r);
                    AtomicFiles.write(resultsFile, CurveFiles.JSON.writeValueAsBytes(runs));
                    ExperimentReport.write(dir, runs, settings);
                }
            }
        }
        ExperimentReport.write(dir, runs, settings);
        table.unpersist();
        return runs;
    }

    private Run tower(Dataset<Row> table, String split, long seed, Variant v, long start) {
        TwoTowerRetrieval estimator = v.applyTo(new TwoTowerRetrieval(), settings.patience())
                .setValidationSplit(split).setValidationFraction(settings.testFraction())
                .setEarlyStoppingFraction(settings.stoppingFraction()).setSeed(seed).setMaxEpochs(settings.epochs())
                // A fixed-length run needs only its last point; an early-stopped one its evaluation cadence.
                .setEvalEvery(v.earlyStopping() ? settings.evalEvery() : settings.epochs()).setRankingK(RANKING_K);
        TwoTowerRetrievalModel model = estimator.fit(table);
        List<CurvePoint> curve = model.validationCurve();
        CurvePoint last = curve.get(curve.size() - 1);
        double stopping = model.earlyStoppingCurve().stream().mapToDouble(p -> p.accuracy().at(100)).max().orElse(Double.NaN);
        RankingMetrics.Result ranking = model.validationRanking();
        return new Run(split, seed, v.name(), last.accuracy().at(10), last.accuracy().at(50), last.accuracy().at(100),
                ranking.recallAtK(), ranking.ndcgAtK(), ranking.users(), last.epoch(), stopping,
                (System.nanoTime() - start) / 1e9, v.toString());
    }

    /** A baseline's view of a split: the Estimator's rows held out the Estimator's way, encoded for Spark's ALS. */
    private record BaselineSplit(Dataset<Row> train, Dataset<Row> test, Dataset<Row> innerTrain, Dataset<Row> innerTest,
                                 int candidates) {
    }

    private BaselineSplit baselineSplit(Dataset<Row> table, String split, long seed) {
        // The Estimator's key columns and its split of them: the same held-out rows as the towers'.
        Dataset<Row> rows = table.select(col("user_id").cast("string").as("user_id"),
                col("movie_id").cast("string").as("movie_id"), col("timestamp").cast("long").as("timestamp"));
        InteractionSplits splits = MovieLensReader.KEYS;
        InteractionSplits.Split test = splits.holdOut(split, rows, seed, settings.testFraction(), 1);
        InteractionSplits.Split inner = splits.holdOut(split, test.train(), TwoTowerRetrieval.stoppingSeed(seed),
                settings.stoppingFraction(), 1);
        IndexedPairs pairs = IndexedPairs.fit(rows, "user_id", "movie_id");
        return new BaselineSplit(pairs.encode(test.train()), pairs.encode(test.test()), pairs.encode(inner.train()),
                pairs.encode(inner.test()), pairs.items());
    }

    private Run als(Dataset<Row> table, String split, long seed, long start) {
        BaselineSplit b = baselineSplit(table, split, seed);
        AlsBaseline.Tuned tuned = AlsBaseline.tune(b.innerTrain(), b.innerTest(), b.train(), b.test(), b.candidates(),
                FactorizedTopK.tutorial(), seed, 100, settings.alsGrid(), AlsBaseline.Criterion.NDCG_10);
        RankingMetrics.Result ranking = AlsBaseline.ranking(tuned.model(), b.train(), b.test(), RANKING_K);
        TopKAccuracy a = tuned.result().test();
        return new Run(split, seed, ALS, a.at(10), a.at(50), a.at(100), ranking.recallAtK(), ranking.ndcgAtK(),
                ranking.users(), 0, tuned.result().validationTopK(), (System.nanoTime() - start) / 1e9,
                tuned.result().label());
    }

    private Run popularity(Dataset<Row> table, String split, long seed, long start) {
        BaselineSplit b = baselineSplit(table, split, seed);
        PopularityBaseline.Result p = PopularityBaseline.score(b.train(), b.test(), b.candidates(),
                FactorizedTopK.tutorial(), RANKING_K);
        TopKAccuracy inner = PopularityBaseline.accuracy(b.innerTrain(), b.innerTest(), b.candidates(),
                FactorizedTopK.tutorial());
        TopKAccuracy a = p.test();
        return new Run(split, seed, POPULARITY, a.at(10), a.at(50), a.at(100), p.ranking().recallAtK(),
                p.ranking().ndcgAtK(), p.ranking().users(), 0, inner.at(100), (System.nanoTime() - start) / 1e9,
                "most popular in the training rows");
    }

    /** The runs saved in {@code file} (none when it does not exist). */
    static List<Run> read(Path file) throws IOException {
        if (!Files.exists(file)) {
            return List.of();
        }
        List<Run> out = new ArrayList<>();
        for (JsonNode n : CurveFiles.JSON.readTree(file.toFile())) {
            out.add(CurveFiles.JSON.treeToValue(n, Run.class));
        }
        return out;
    }

    private static String f(double v) {
        return String.format(java.util.Locale.ROOT, "%.4f", v);
    }
}
