package io.deepretrieval.spark.experiment;

import io.deepretrieval.model.io.AtomicFiles;
import io.deepretrieval.spark.baseline.AlsBaseline;
import io.deepretrieval.spark.experiment.ObjectiveExperiment.Run;
import io.deepretrieval.spark.report.CurveFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The experiment's splits, its results file across versions and the report's new columns. */
class ExperimentResultsTest {
    private static ObjectiveExperiment.Settings settings(List<String> splits) {
        return new ObjectiveExperiment.Settings("data", splits, List.of(42L), List.of(Variant.TUTORIAL), 10, 1, 2, 0.2,
                0.1, true, AlsBaseline.Grid.DEFAULT);
    }

    private static Run run(String split, String model, double top100, double ndcg10, double nextNdcg10, long queries) {
        return new Run(split, 42, model, 0.01, 0.05, top100, 0.1, ndcg10, 900, 0, 0.3, 12, "detail", 0.2, nextNdcg10 / 2,
                nextNdcg10, queries, queries / 4);
    }

    @Test
    void leaveLastOneIsASplitNamedLastAndHeldOutAsLastN() {
        assertEquals(List.of("random", "temporal", "last"), settings(List.of("random", "temporal", "last")).splits());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> settings(List.of("lastN")));
        assertEquals("--split lastN: must be random, temporal or last", e.getMessage());
        assertEquals("lastN", ObjectiveExperiment.holdOutKind("last"));
        assertEquals("temporal", ObjectiveExperiment.holdOutKind("temporal"));
        assertEquals("random", ObjectiveExperiment.holdOutKind("random"));
    }

    @Test
    void resultsWrittenBeforeTheNewFiguresReadWithTheFiguresMissing(@TempDir Path dir) throws IOException {
        // A run as the previous version wrote it: no stopping NDCG, no next-item figures.
        Path file = dir.resolve("results.json");
        AtomicFiles.writeString(file, """
                [ {
                  "split" : "temporal", "seed" : 42, "model" : "als", "top10" : 0.01, "top50" : 0.02, "top100" : 0.03,
                  "recall10" : 0.04, "ndcg10" : 0.05, "testUsers" : 100, "epochs" : 0, "stoppingTop100" : 0.06,
                  "seconds" : 7.0, "detail" : "ALS implicit (rank 16, reg 0.1, alpha 1)"
                } ]""");
        Run old = ObjectiveExperiment.read(file).get(0);
        assertEquals(0.05, old.ndcg10());
        assertTrue(Double.isNaN(old.stoppingNdcg10()) && Double.isNaN(old.nextRecall10()) && Double.isNaN(old.nextNdcg10()));
        assertEquals(0, old.nextQueries());
        assertEquals(0, old.nextWithoutRecommendations());
        // Runs of this version, NaN figures included, read back as they were written.
        List<Run> runs = List.of(run("temporal", "item2item", Double.NaN, 0.3, 0.25, 2000),
                run("random", "tutorial", 0.27, 0.1, Double.NaN, 0));
        AtomicFiles.write(file, CurveFiles.JSON.writeValueAsBytes(runs));
        assertEquals(runs, ObjectiveExperiment.read(file));
    }

    @Test
    void theReportShowsNextItemColumnsWhereThereAreQueriesAndDashesForMissingFigures() {
        List<Run> runs = List.of(run("temporal", ObjectiveExperiment.POPULARITY, 0.28, 0.30, 0.20, 2000),
                run("temporal", ObjectiveExperiment.ITEM_TO_ITEM, Double.NaN, 0.35, 0.40, 2000),
                run("random", ObjectiveExperiment.ALS, 0.41, 0.43, Double.NaN, 0),
                run("random", "logq", 0.43, 0.19, Double.NaN, 0));
        String md = ExperimentReport.markdown(ExperimentReport.summarize(runs), settings(List.of("random", "temporal")));
        String temporal = md.substring(md.indexOf("### temporal split"), md.indexOf("### random split"));
        String random = md.substring(md.indexOf("### random split"));
        assertTrue(temporal.contains("next-item recall@10 | next-item NDCG@10 |"), temporal);
        assertTrue(temporal.contains("| item2item | 1 | - | 0.1000 ± 0.0000 | 0.3500 ± 0.0000 | - | 0.3000 | 0.2000 |"
                + " 0.2000 ± 0.0000 | 0.4000 ± 0.0000 |"), temporal);
        assertFalse(random.contains("next-item"), random);
        assertTrue(random.contains("| als | 1 | 0.4100 ± 0.0000 |"), random);
        assertTrue(md.contains("last (each user's latest row"), md);
    }
}
