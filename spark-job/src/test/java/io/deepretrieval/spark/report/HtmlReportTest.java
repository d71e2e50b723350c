package io.deepretrieval.spark.report;

import io.deepretrieval.model.metrics.TopKAccuracy;
import io.deepretrieval.model.train.CurvePoint;
import io.deepretrieval.spark.baseline.AlsBaseline;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The HTML report rendered by headless Chromium (.ci/run installs Debian's chromium): table, baseline and plot. */
class HtmlReportTest {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");

    @Test
    void rendersInHeadlessChromiumWithTableBaselineAndPlot(@TempDir Path dir) throws Exception {
        int[] ks = {1, 10, 100};
        List<DepthResult> results = List.of(
                new DepthResult(new int[]{32}, List.of(point(5, 0.20), point(10, 0.25)), 12.5, null),
                new DepthResult(new int[]{64, 32}, List.of(point(5, 0.22)), 7.0, "epoch 7, step 3: loss is NaN"));
        AlsBaseline.Result als = new AlsBaseline.Result(32, 0.1, 10, 10, 0.3, 0.2, new TopKAccuracy(ks, new double[]{0.01, 0.08, 0.21}));
        Path plot = dir.resolve("top100.png");
        AccuracyPlot.write(plot, results, 100, als.label(), als.test().at(100));
        HtmlReport.write(dir, "{\"epochs\": 10, \"note\": \"<b>escaped</b>\"}", results, ks, als, List.of(), plot);

        assertTrue(Files.isExecutable(CHROMIUM), "Debian's chromium is needed (.ci/run installs it)");
        Process p = new ProcessBuilder(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--user-data-dir=" + dir.resolve("profile"), "--virtual-time-budget=3000",
                "--dump-dom", dir.resolve("report.html").toUri().toString())
                .redirectError(dir.resolve("chromium.log").toFile()).start();
        String dom = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), Files.readString(dir.resolve("chromium.log")));
        assertTrue(dom.contains("data-plot-loaded=\"true\""), "the plot did not decode:\n" + dom.substring(0, Math.min(2000, dom.length())));
        assertTrue(dom.contains("<table id=\"results\">"), dom);
        assertTrue(dom.contains("two towers [32]") && dom.contains("0.2500"), "depth row");
        assertTrue(dom.contains("failed: epoch 7, step 3: loss is NaN"), "failed depth row");
        assertTrue(dom.contains("ALS implicit (rank 32") && dom.contains("0.2100"), "baseline row");
        assertTrue(dom.contains("&lt;b&gt;escaped&lt;/b&gt;"), "settings must be escaped");
    }

    private static CurvePoint point(int epoch, double top100) {
        return new CurvePoint(epoch, 1000 - epoch, new TopKAccuracy(new int[]{1, 10, 100}, new double[]{top100 / 20, top100 / 3, top100}), epoch);
    }
}
