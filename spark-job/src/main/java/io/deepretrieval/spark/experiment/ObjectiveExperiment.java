package io.deepretrieval.spark.experiment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.deepretrieval.model.io.AtomicFiles;
import io.deepretrieval.model.metrics.FactorizedTopK;
import io.deepretrieval.model.metrics.TopKAccuracy;
import io.deepretrieval.model.train.CurvePoint;
import io.deepretrieval.spark.baseline.AlsBaseline;
import io.deepretrieval.spark.baseline.IndexedPairs;
import io.deepretrieval.spark.baseline.ItemToItemBaseline;
import io.deepretrieval.spark.baseline.PopularityBaseline;
import io.deepretrieval.spark.eval.NextItemQueries;
import io.deepretrieval.spark.eval.RankingMetrics;
import io.deepretrieval.spark.ingest.InputPolicy;
import io.deepretrieval.spark.ingest.MovieLensData;
import io.deepretrieval.spark.ingest.MovieLensReader;
import io.deepretrieval.spark.ml.TwoTowerRetrieval;
import io.deepretrieval.spark.ml.TwoTowerRetrievalModel;
import io.deepretrieval.spark.preprocess.CountedJoin;
import io.deepretrieval.spark.preprocess.InteractionSplits;
import io.deepretrieval.spark.preprocess.KeyColumns;
import io.deepretrieval.spark.report.CurveFiles;
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
import java.util.Locale;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.regexp_extract;

/**
 * The retrieval-quality experiment on a MovieLens folder: for each split (random, temporal, leave-last-one) and seed,
 * every tower {@link Variant} through the Estimator, and three baselines tuned on the same stopping slice: Spark's
 * ALS (by NDCG@10), item-to-item similarity (by NDCG@10) and the most popular items, all scored on the same
 * held-out rows (top-K accuracy over every candidate as in the tutorial, and per-user recall@10 / NDCG@10 with
 * training items left out). On the temporal split the baselines are also scored by the next-item protocol
 * ({@link NextItemQueries}: every test row a query with the history known at its time); the towers join it through
 * {@link TowerQueries}. Each finished run is appended to {@code results.json} and the report rewritten, so an
 * interrupted experiment resumes where it stopped when started again on the same folder.
 */
public final class ObjectiveExperiment {
    private static final Logger LOG = LoggerFactory.getLogger(ObjectiveExperiment.class);
    /** The name of the ALS rows. */
    public static final String ALS = "als";
    /** The name of the most-popular rows. */
    public static final String POPULARITY = "popularity";
    /** The name of the item-to-item rows. */
    public static final String ITEM_TO_ITEM = "item2item";
    /** The baselines, in the order they run (cheapest first). */
    public static final List<String> BASELINES = List.of(POPULARITY, ITEM_TO_ITEM, ALS);
    /** The splits the experiment knows: a seeded random share, the latest share by time, each user's last row. */
    public static final List<String> SPLITS = List.of("random", "temporal", "last");
    /** The split whose test rows the next-item protocol also scores. */
    public static final String NEXT_ITEM_SPLIT = "temporal";
    private static final int RANKING_K = 10;

    /** What to run. */
    public record Settings(String data, List<String> splits, List<Long> seeds, List<Variant> variants, int epochs,
                           int evalEvery, int patience, double testFraction, double stoppingFraction, boolean baselines,
                           AlsBaseline.Grid alsGrid) {
        /** Known splits, at least one split and one seed. */
        public Settings {
            for (String s : splits) {
                if (!SPLITS.contains(s)) {
                    throw new IllegalArgumentException("--split " + s + ": must be random, temporal or last");
                }
            }
            if (seeds.isEmpty() || splits.isEmpty()) {
                throw new IllegalArgumentException("the experiment needs at least one split and one seed");
            }
        }
    }

    /**
     * One finished run: the test figures of one model on one split and seed. Figures a model does not have are NaN
     * (item-to-item has no factorized top-K; only ALS, item-to-item and popularity have a stopping-slice NDCG; only
     * the temporal split has next-item figures, and the towers only through {@link TowerQueries}).
     *
     * @param stoppingNdcg10 per-user NDCG@10 on the stopping slice, the figure ALS and item-to-item are tuned by
     * @param nextRecall10 next-item recall@10, averaged over queries
     * @param nextNdcg10 next-item NDCG@10, averaged over queries
     * @param nextQueries the next-item queries (0 without them)
     * @param nextWithoutRecommendations queries the model gave no items (scored 0), e.g. users ALS has no factors for
     */
    public record Run(String split, long seed, String model, double top10, double top50, double top100,
                      double recall10, double ndcg10, long testUsers, int epochs, double stoppingTop100,
                      double seconds, String detail, double stoppingNdcg10, double nextRecall10, double nextNdcg10,
                      long nextQueries, long nextWithoutRecommendations) {
        boolean same(String split, long seed, String model) {
            return this.split.equals(split) && this.seed == seed && this.model.equals(model);
        }
    }

    /**
     * The hook through which the towers answer the next-item protocol: from a model fitted on a split's training
     * rows to the recommender of the split's next-item queries ({@value NextItemQueries#QUERY},
     * {@value NextItemQueries#USER}, {@value NextItemQueries#HISTORY} in, ALS's output schema out).
     */
    @FunctionalInterface
    public interface TowerQueries {
        /** The recommender of {@code model} (fitted for {@code variant}). */
        NextItemQueries.Recommender recommender(TwoTowerRetrievalModel model, Variant variant);
    }

    /** The next-item figures of one run (NaN and 0 when the split has none). */
    private record NextFigures(double recall10, double ndcg10, long queries, long withoutRecommendations) {
        static final NextFigures NONE = new NextFigures(Double.NaN, Double.NaN, 0, 0);
    }

    private final Settings settings;
    private final TowerQueries towerQueries;

    /** The experiment without next-item figures for the towers. */
    public ObjectiveExperiment(Settings settings) {
        this(settings, null);
    }

    /** The experiment whose towers answer the next-item protocol through {@code towerQueries} (null: they do not). */
    public ObjectiveExperiment(Settings settings, TowerQueries towerQueries) {
        this.settings = settings;
        this.towerQueries = towerQueries;
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
                settings.baselines() ? " and the baselines " + BASELINES : "");
        List<String> models = new ArrayList<>();
        if (settings.baselines()) {
            models.addAll(BASELINES);
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
                    Run r = switch (model) {
                        case ALS -> als(table, split, seed, start);
                        case POPULARITY -> popularity(table, split, seed, start);
                        case ITEM_TO_ITEM -> itemToItem(table, split, seed, start);
                        default -> tower(table, split, seed, Variant.named(List.of(model)).get(0), start);
                    };
                    LOG.info("{} {} seed {}: top-100 {}, recall@10 {}, NDCG@10 {}, next-item recall@10 {} NDCG@10 {}"
                                    + " ({} epochs, {} s)", model, split, seed, f(r.top100()), f(r.recall10()),
                            f(r.ndcg10()), f(r.nextRecall10()), f(r.nextNdcg10()), r.epochs(), Math.round(r.seconds()));
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
                .setValidationSplit(holdOutKind(split)).setValidationLastN(1)
                .setValidationFraction(settings.testFraction())
                .setEarlyStoppingFraction(settings.stoppingFraction()).setSeed(seed).setMaxEpochs(settings.epochs())
                // A fixed-length run needs only its last point; an early-stopped one its evaluation cadence.
                .setEvalEvery(v.earlyStopping() ? settings.evalEvery() : settings.epochs()).setRankingK(RANKING_K);
        TwoTowerRetrievalModel model = estimator.fit(table);
        List<CurvePoint> curve = model.validationCurve();
        CurvePoint last = curve.get(curve.size() - 1);
        double stopping = model.earlyStoppingCurve().stream().mapToDouble(p -> p.accuracy().at(100)).max().orElse(Double.NaN);
        RankingMetrics.Result ranking = model.validationRanking();
        NextFigures next = NextFigures.NONE;
        if (towerQueries != null && split.equals(NEXT_ITEM_SPLIT)) {
            // The Estimator held out these same rows (the split is a function of the rows, seed and fraction).
            KeySplit k = keySplit(table, split, seed);
            NextItemQueries.Recommender recommender = towerQueries.recommender(model, v);
            if (recommender != null) {
                next = nextItem(k, split, recommender);
            }
        }
        model.release(); // dozens of fits in one JVM: each model's executor state goes as soon as its figures are read
        return new Run(split, seed, v.name(), last.accuracy().at(10), last.accuracy().at(50), last.accuracy().at(100),
                ranking.recallAtK(), ranking.ndcgAtK(), ranking.users(), last.epoch(), stopping,
                (System.nanoTime() - start) / 1e9, v.toString(),
                model.earlyStoppingRanking() == null ? Double.NaN : model.earlyStoppingRanking().ndcgAtK(),
                next.recall10(), next.ndcg10(),
                next.queries(), next.withoutRecommendations());
    }

    /**
     * The towers' answer to next-item queries: each query embedded from its user, its time and its history (the
     * history features read it), through {@link TwoTowerRetrievalModel#recommendForQueries}. Null (no figures) for
     * a tower that also reads side features, which the queries do not carry.
     */
    public static final TowerQueries TOWERS_BY_QUERY = (model, variant) -> {
        if (variant.sideFeatures()) {
            return null;
        }
        String userCol = model.getOrDefault(model.userCol());
        String timeCol = model.getOrDefault(model.timestampCol());
        List<String> histories = model.featureSpec().derivedHistories().stream().map(f -> f.name()).toList();
        return (queries, n) -> {
            // The query's time is in its id (user@time#item); a model without a time column reads none.
            Dataset<Row> rows = queries.select(col("query"), col("user").as(userCol), col("history"));
            if (!timeCol.isEmpty()) {
                rows = rows.withColumn(timeCol, regexp_extract(col("query"), "@(-?[0-9]+)#", 1).cast("long"));
            }
            for (String h : histories) {
                rows = rows.withColumn(h, col("history"));
            }
            return model.recommendForQueries(rows.drop("history"), "query", n);
        };
    };

    /** The name {@link InteractionSplits#holdOut} and the Estimator give a split of the experiment. */
    static String holdOutKind(String split) {
        return split.equals("last") ? "lastN" : split;
    }

    /**
     * A split of the key rows ({@link KeyColumns}: user and item ids as strings, the time a long), held out the
     * Estimator's way: test, and the stopping slice of the training rows ({@code innerTest}).
     */
    private record KeySplit(Dataset<Row> rows, Dataset<Row> train, Dataset<Row> test, Dataset<Row> innerTrain,
                            Dataset<Row> innerTest) {
    }

    private KeySplit keySplit(Dataset<Row> table, String split, long seed) {
        // The Estimator's key columns and its split of them: the same held-out rows as the towers'.
        Dataset<Row> rows = table.select(col("user_id").cast("string").as(KeyColumns.USER),
                col("movie_id").cast("string").as(KeyColumns.ITEM), col("timestamp").cast("long").as(KeyColumns.TIME));
        InteractionSplits splits = InteractionSplits.KEYS;
        // Leave-last-one holds out each user's latest row; its stopping slice is each user's latest training row.
        InteractionSplits.Split test = splits.holdOut(holdOutKind(split), rows, seed, settings.testFraction(), 1);
        InteractionSplits.Split inner = splits.holdOut(holdOutKind(split), test.train(),
                TwoTowerRetrieval.stoppingSeed(seed), settings.stoppingFraction(), 1);
        return new KeySplit(rows, test.train(), test.test(), inner.train(), inner.test());
    }

    /** A baseline's view of a split: the key rows, and the same rows encoded for Spark's ALS. */
    private record BaselineSplit(KeySplit keys, IndexedPairs pairs, Dataset<Row> train, Dataset<Row> test,
                                 Dataset<Row> innerTrain, Dataset<Row> innerTest, int candidates) {
    }

    private BaselineSplit baselineSplit(Dataset<Row> table, String split, long seed) {
        KeySplit k = keySplit(table, split, seed);
        IndexedPairs pairs = IndexedPairs.fit(k.rows(), KeyColumns.USER, KeyColumns.ITEM);
        return new BaselineSplit(k, pairs, pairs.encode(k.train()), pairs.encode(k.test()), pairs.encode(k.innerTrain()),
                pairs.encode(k.innerTest()), pairs.items());
    }

    /** The next-item figures of {@code recommender} on the split's test rows, if the split is the temporal one. */
    private static NextFigures nextItem(KeySplit k, String split, NextItemQueries.Recommender recommender) {
        if (!split.equals(NEXT_ITEM_SPLIT)) {
            return NextFigures.NONE;
        }
        NextItemQueries queries = NextItemQueries.of(k.train(), k.test());
        try {
            RankingMetrics.Result r = queries.evaluate(recommender, RANKING_K);
            LOG.info("Next-item: {} queries, {} without recommendations", queries.count(), r.usersWithoutRecommendations());
            return new NextFigures(r.recallAtK(), r.ndcgAtK(), r.users(), r.usersWithoutRecommendations());
        } finally {
            queries.release();
        }
    }

    private Run als(Dataset<Row> table, String split, long seed, long start) {
        BaselineSplit b = baselineSplit(table, split, seed);
        AlsBaseline.Tuned tuned = AlsBaseline.tune(b.innerTrain(), b.innerTest(), b.train(), b.test(), b.candidates(),
                FactorizedTopK.tutorial(), seed, 100, settings.alsGrid(), AlsBaseline.Criterion.NDCG_10);
        RankingMetrics.Result ranking = AlsBaseline.ranking(tuned.model(), b.train(), b.test(), RANKING_K);
        NextFigures next = nextItem(b.keys(), split,
                (queries, n) -> AlsBaseline.recommendForQueries(tuned.model(), b.pairs(), queries, n));
        TopKAccuracy a = tuned.result().test();
        return new Run(split, seed, ALS, a.at(10), a.at(50), a.at(100), ranking.recallAtK(), ranking.ndcgAtK(),
                ranking.users(), 0, tuned.result().validationTopK(), (System.nanoTime() - start) / 1e9,
                tuned.result().label(), tuned.result().validationNdcg10(), next.recall10(), next.ndcg10(),
                next.queries(), next.withoutRecommendations());
    }

    private Run popularity(Dataset<Row> table, String split, long seed, long start) {
        BaselineSplit b = baselineSplit(table, split, seed);
        PopularityBaseline.Result p = PopularityBaseline.score(b.train(), b.test(), b.candidates(),
                FactorizedTopK.tutorial(), RANKING_K);
        PopularityBaseline.Result inner = PopularityBaseline.score(b.innerTrain(), b.innerTest(), b.candidates(),
                FactorizedTopK.tutorial(), RANKING_K);
        NextFigures next = nextItem(b.keys(), split,
                (queries, n) -> PopularityBaseline.recommendForQueries(b.keys().train(), queries, n));
        TopKAccuracy a = p.test();
        return new Run(split, seed, POPULARITY, a.at(10), a.at(50), a.at(100), p.ranking().recallAtK(),
                p.ranking().ndcgAtK(), p.ranking().users(), 0, inner.test().at(100), (System.nanoTime() - start) / 1e9,
                "most popular in the training rows", inner.ranking().ndcgAtK(), next.recall10(), next.ndcg10(),
                next.queries(), next.withoutRecommendations());
    }

    private Run itemToItem(Dataset<Row> table, String split, long seed, long start) {
        KeySplit k = keySplit(table, split, seed);
        ItemToItemBaseline.Tuned tuned = ItemToItemBaseline.tune(k.innerTrain(), k.innerTest(),
                ItemToItemBaseline.Grid.DEFAULT, RANKING_K);
        try (ItemToItemBaseline model = ItemToItemBaseline.fit(k.train())) {
            RankingMetrics.Result ranking = new RankingMetrics(KeyColumns.USER, KeyColumns.ITEM)
                    .evaluate(model.recommend(tuned.setting(), RANKING_K), k.test(), RANKING_K);
            NextFigures next = nextItem(k, split,
                    (queries, n) -> model.recommendForQueries(queries, tuned.setting(), n));
            // No factorized top-K: item-to-item scores users, not the tutorial's per-rating queries.
            return new Run(split, seed, ITEM_TO_ITEM, Double.NaN, Double.NaN, Double.NaN, ranking.recallAtK(),
                    ranking.ndcgAtK(), ranking.users(), 0, Double.NaN, (System.nanoTime() - start) / 1e9,
                    tuned.setting().label(), tuned.validationNdcg(), next.recall10(), next.ndcg10(), next.queries(),
                    next.withoutRecommendations());
        }
    }

    /** The runs saved in {@code file} (none when it does not exist). */
    static List<Run> read(Path file) throws IOException {
        if (!Files.exists(file)) {
            return List.of();
        }
        List<Run> out = new ArrayList<>();
        for (JsonNode n : CurveFiles.JSON.readTree(file.toFile())) {
            // Files written before these figures existed lack them: not measured, so NaN (and no queries).
            ObjectNode run = (ObjectNode) n;
            for (String figure : new String[]{"stoppingNdcg10", "nextRecall10", "nextNdcg10"}) {
                if (!run.has(figure)) {
                    run.put(figure, Double.NaN);
                }
            }
            for (String count : new String[]{"nextQueries", "nextWithoutRecommendations"}) {
                if (!run.has(count)) {
                    run.put(count, 0L);
                }
            }
            out.add(CurveFiles.JSON.treeToValue(run, Run.class));
        }
        return out;
    }

    private static String f(double v) {
        return String.format(Locale.ROOT, "%.4f", v);
    }
}
