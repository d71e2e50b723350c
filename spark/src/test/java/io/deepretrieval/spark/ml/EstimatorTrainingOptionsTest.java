package io.deepretrieval.spark.ml;

import io.deepretrieval.spark.TestSpark;
import io.deepretrieval.spark.eval.RankingMetrics;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Estimator's checkpoint resume and its validation options (temporal, last-N per user, train-only preprocessing). */
class EstimatorTrainingOptionsTest {
    @TempDir
    static Path dir;
    static SparkSession spark;
    static Dataset<Row> interactions;

    @BeforeAll
    static void data() {
        spark = TestSpark.session();
        interactions = TwoTowerRetrievalTest.writeParquetWith(spark, dir.resolve("interactions.parquet"), 3000);
    }

    private static TwoTowerRetrieval estimator(int epochs) {
        return TwoTowerRetrievalTest.estimator().setMaxEpochs(epochs).setEvalEvery(2);
    }

    private static Map<String, List<Object>> items(TwoTowerRetrievalModel m) {
        Map<String, List<Object>> out = new HashMap<>();
        m.itemEmbeddings().collectAsList().forEach(r -> out.put(r.getString(0), r.getList(1)));
        return out;
    }

    @Test
    void aFitResumesFromItsCheckpointToTheUninterruptedResult() {
        String ck = dir.resolve("checkpoints").toString();
        TwoTowerRetrievalModel first = estimator(2).setCheckpointDir(ck).fit(interactions);
        assertEquals(List.of(2), first.validationCurve().stream().map(p -> p.epoch()).toList());
        assertEquals(1, checkpoints(dir.resolve("checkpoints"), "16-seed5-").size());
        // The same settings with more epochs continue after epoch 2 instead of starting over.
        TwoTowerRetrievalModel resumed = estimator(4).setCheckpointDir(ck).fit(interactions);
        TwoTowerRetrievalModel straight = estimator(4).fit(interactions);
        assertEquals(List.of(2, 4), resumed.validationCurve().stream().map(p -> p.epoch()).toList());
        assertEquals(straight.validationCurve().get(1).meanLoss(), resumed.validationCurve().get(1).meanLoss(), 1e-9);
        Map<String, List<Object>> a = items(straight);
        Map<String, List<Object>> b = items(resumed);
        assertEquals(a.keySet(), b.keySet());
        a.forEach((item, v) -> {
            List<Object> w = b.get(item);
            for (int d = 0; d < v.size(); d++) {
                assertEquals((Float) v.get(d), (Float) w.get(d), 1e-6f, item + " dim " + d);
            }
        });
        // Other data behind the same folder is refused, not silently mixed in.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> estimator(4).setCheckpointDir(ck).fit(interactions.limit(2000)));
        assertTrue(e.getMessage().contains("checkpointDir") && e.getMessage().contains("other data"), e.getMessage());
    }

    private static List<Path> checkpoints(Path folder, String prefix) {
        try (var files = Files.list(folder)) {
            return files.filter(f -> f.getFileName().toString().startsWith(prefix) && f.toString().endsWith(".ckpt")).toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void otherTrainingSettingsStartAfreshInsteadOfResumingAnotherRun() {
        String ck = dir.resolve("checkpoints-settings").toString();
        TwoTowerRetrievalModel first = estimator(2).setCheckpointDir(ck).fit(interactions);
        TwoTowerRetrievalModel other = estimator(2).setLearningRate(0.05).setCheckpointDir(ck).fit(interactions);
        TwoTowerRetrievalModel fresh = estimator(2).setLearningRate(0.05).fit(interactions);
        // Resumed, the second fit would have had nothing left to train and returned the first's loss.
        assertEquals(fresh.validationCurve().get(0).meanLoss(), other.validationCurve().get(0).meanLoss(), 1e-9);
        assertTrue(Math.abs(first.validationCurve().get(0).meanLoss() - other.validationCurve().get(0).meanLoss()) > 1e-6);
        assertEquals(2, checkpoints(Path.of(ck), "16-seed5-").size());
    }

    /** The same settings and spec with other rows marked for validation train on other rows: no resume. */
    @Test
    void anotherValidationMarkingStartsAfresh() {
        String ck = dir.resolve("checkpoints-marking").toString();
        Dataset<Row> a = interactions.withColumn("held", col("seconds").mod(5).equalTo(0));
        Dataset<Row> b = interactions.withColumn("held", col("seconds").mod(5).equalTo(1));
        estimator(2).setValidationIndicatorCol("held").setCheckpointDir(ck).fit(a);
        TwoTowerRetrievalModel other = estimator(2).setValidationIndicatorCol("held").setCheckpointDir(ck).fit(b);
        TwoTowerRetrievalModel fresh = estimator(2).setValidationIndicatorCol("held").fit(b);
        assertEquals(fresh.validationCurve().get(0).meanLoss(), other.validationCurve().get(0).meanLoss(), 1e-9);
        assertEquals(2, checkpoints(Path.of(ck), "16-seed5-").size());
        // The first marking again resumes its own run: its file, complete at epoch 2, is not rewritten.
        Map<Path, Long> written = new HashMap<>();
        for (Path f : checkpoints(Path.of(ck), "16-seed5-")) {
            written.put(f, f.toFile().lastModified());
        }
        estimator(2).setValidationIndicatorCol("held").setCheckpointDir(ck).fit(a);
        assertEquals(2, checkpoints(Path.of(ck), "16-seed5-").size());
        written.forEach((f, t) -> assertEquals(t, f.toFile().lastModified(), f + " was rewritten"));
    }

    @Test
    void earlyStoppingKeepsTheBestEpochAndRefitsOnEveryTrainingRow() {
        // 2,400 training rows of 300 items overfit within a few epochs: the stopping slice's best is early.
        TwoTowerRetrievalModel stopped = estimator(30).setEvalEvery(1).setEarlyStoppingPatience(2)
                .setRefitAfterStopping(false).fit(interactions);
        List<io.deepretrieval.model.train.CurvePoint> slice = stopped.earlyStoppingCurve();
        int best = stopped.earlyStoppingBestEpoch();
        double bestScore = slice.stream().mapToDouble(p -> p.accuracy().at(100)).max().orElseThrow();
        assertEquals(bestScore, slice.stream().filter(p -> p.epoch() == best).findFirst().orElseThrow().accuracy().at(100));
        int last = slice.get(slice.size() - 1).epoch();
        assertEquals(best + 2, last, "patience 2: two evaluations after the best, not all 30 epochs");
        // The kept model is the best epoch's: its validation top-K is the curve's point at that epoch.
        TwoTowerRetrievalModel refit = estimator(30).setEvalEvery(1).setEarlyStoppingPatience(2).fit(interactions);
        assertEquals(best, refit.earlyStoppingBestEpoch());
        assertEquals(best, refit.validationCurve().get(refit.validationCurve().size() - 1).epoch(),
                "the refit trains the best epoch count");
        double top10 = refit.validationCurve().get(refit.validationCurve().size() - 1).accuracy().at(10);
        assertTrue(top10 > 3 * 10.0 / TwoTowerRetrievalTest.ITEMS, "refit validation top-10 " + top10);
        // The best epoch's towers ranked for the slice's users, a per-user figure to choose settings by.
        RankingMetrics.Result slice10 = refit.earlyStoppingRanking();
        assertTrue(slice10.users() > TwoTowerRetrievalTest.USERS / 2, slice10.toString());
        assertTrue(slice10.recallAtK() > 3 * 10.0 / TwoTowerRetrievalTest.ITEMS, slice10.toString());
        assertEquals(null, estimator(3).fit(interactions).earlyStoppingRanking(), "no early stopping, no figure");
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> estimator(3).setEarlyStoppingK(7));
        assertTrue(bad.getMessage().contains("earlyStoppingK"), bad.getMessage());
    }

    @Test
    void objectiveOptionsTrainBeatChanceAndSurviveSaveAndLoad() throws java.io.IOException {
        TwoTowerRetrievalModel m = TwoTowerRetrievalTest.estimator().setTemperature(0.5).setRemoveAccidentalHits(true)
                .setLogQCorrection(true).setMixedNegatives(32).setIdDropout(0.1).fit(interactions);
        double top10 = m.validationCurve().get(m.validationCurve().size() - 1).accuracy().at(10);
        double chance = 10.0 / TwoTowerRetrievalTest.ITEMS;
        assertTrue(top10 > 3 * chance, "validation top-10 " + top10 + " with every option on; chance " + chance);
        String path = dir.resolve("options-model").toString();
        m.write().save(path);
        TwoTowerRetrievalModel loaded = TwoTowerRetrievalModel.load(path);
        assertEquals(new io.deepretrieval.model.task.RetrievalObjective(0.5, true, true, 32), loaded.config().objective());
        assertEquals(new io.deepretrieval.model.features.IdDropout("user", 0.1), loaded.config().idDropout(),
                "id dropout acts on the query feature of userCol");
        IllegalArgumentException noId = assertThrows(IllegalArgumentException.class, () -> TwoTowerRetrievalTest
                .estimator().setIdDropout(0.1).setQueryFeatures(new String[]{"when=seconds:timestamp:10"})
                .fit(interactions));
        assertTrue(noId.getMessage().contains("idDropout 0.1 needs a categorical query feature on userCol 'customer'"),
                noId.getMessage());
    }

    @Test
    void leaveLastNPerUserWithTrainOnlyPreprocessing() {
        TwoTowerRetrievalModel m = estimator(2).setValidationSplit("lastN").setValidationLastN(2)
                .setPreprocessOn("train").fit(interactions);
        long users = interactions.groupBy("customer").agg(count("*").as("n")).filter(col("n").gt(2)).count();
        // Every user with more than 2 interactions holds out exactly 2 (no duplicate timestamps in this data).
        assertEquals(users, m.validationRanking().users());
        assertTrue(m.validationRanking().recallAtK() >= 0 && !m.validationCurve().isEmpty());
    }

    @Test
    void temporalSplitHoldsOutTheLatestRows() {
        TwoTowerRetrievalModel m = estimator(2).setValidationSplit("temporal").setValidationFraction(0.25).fit(interactions);
        assertEquals(List.of(2), m.validationCurve().stream().map(p -> p.epoch()).toList());
        assertTrue(m.validationRanking().users() > 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> estimator(2).setValidationSplit("temporal").setValidationFraction(0).fit(interactions));
        assertTrue(e.getMessage().contains("validationFraction"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> estimator(2).setValidationSplit("sometimes"));
    }
}
