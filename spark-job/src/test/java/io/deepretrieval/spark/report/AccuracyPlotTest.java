package io.deepretrieval.spark.report;

import io.deepretrieval.model.metrics.TopKAccuracy;
import io.deepretrieval.model.train.CurvePoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.jfree.data.xy.YIntervalSeries;
import org.jfree.data.xy.YIntervalSeriesCollection;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AccuracyPlotTest {
    private static DepthResult run(int[] layers, long seed, double... top100ByEvaluation) {
        CurvePoint[] points = new CurvePoint[top100ByEvaluation.length];
        for (int i = 0; i < points.length; i++) {
            points[i] = new CurvePoint(5 * (i + 1), 1.0, new TopKAccuracy(new int[]{100}, new double[]{top100ByEvaluation[i]}), i);
        }
        return new DepthResult(layers, seed, List.of(points), 1.0, null);
    }

    @Test
    void seedsOfOneDepthBecomeAMeanLineWithAnSdBand() {
        List<DepthResult> results = List.of(
                run(new int[]{32}, 1, 0.20, 0.26),
                run(new int[]{32}, 2, 0.22, 0.27),
                run(new int[]{32}, 3, 0.24, 0.31),
                run(new int[]{64, 32}, 1, 0.25, 0.30));
        YIntervalSeriesCollection data = AccuracyPlot.series(results, 100);
        assertEquals(2, data.getSeriesCount(), "one curve per depth");

        YIntervalSeries three = data.getSeries(0);
        assertTrue(three.getKey().toString().contains("3 seeds"), three.getKey().toString());
        assertEquals(2, three.getItemCount());
        // Epoch 5: values .20 .22 .24 -> mean .22, sample sd .02; epoch 10: .26 .27 .31 -> mean .28, sd ~.02646.
        assertArrayEquals(new double[]{5, 0.22, 0.20, 0.24},
                new double[]{three.getX(0).doubleValue(), three.getYValue(0), three.getYLowValue(0), three.getYHighValue(0)}, 1e-9);
        double sd = Math.sqrt((0.0004 + 0.0001 + 0.0009) / 2);
        assertEquals(0.28 - sd, three.getYLowValue(1), 1e-9);
        assertEquals(0.28 + sd, three.getYHighValue(1), 1e-9);

        YIntervalSeries single = data.getSeries(1);
        assertEquals(single.getYLowValue(1), single.getYHighValue(1), 0, "a single run has no band");
        assertEquals(0.30, single.getYValue(1), 1e-12);
    }

    @Test
    void epochsNotReachedByEveryRunAreLeftOutAndFailedRunsDrawnApart(@TempDir Path dir) throws Exception {
        DepthResult failed = new DepthResult(new int[]{32}, 3L, List.of(
                new CurvePoint(5, 1.0, new TopKAccuracy(new int[]{100}, new double[]{0.1}), 1)), 1.0, "loss is NaN");
        List<DepthResult> results = List.of(run(new int[]{32}, 1, 0.20, 0.26), run(new int[]{32}, 2, 0.22), failed);
        YIntervalSeriesCollection data = AccuracyPlot.series(results, 100);
        assertEquals(2, data.getSeriesCount());
        assertEquals(1, data.getSeries(0).getItemCount(), "epoch 10 was reached by one of two runs only");
        assertTrue(data.getSeries(1).getKey().toString().endsWith("(failed)"));

        Path png = dir.resolve("plot.png");
        AccuracyPlot.write(png, results, 100, "ALS", 0.4);
        byte[] bytes = Files.readAllBytes(png);
        assertTrue(bytes.length > 1000 && bytes[1] == 'P' && bytes[2] == 'N' && bytes[3] == 'G', "a PNG was written");
    }

    @Test
    void everyBandIsFilledInItsLineColour() {
        org.jfree.chart.renderer.xy.DeviationRenderer r = AccuracyPlot.renderer(3, true);
        java.util.Set<java.awt.Paint> lines = new java.util.HashSet<>();
        for (int i = 0; i < 3; i++) {
            assertEquals(r.getSeriesPaint(i), r.getSeriesFillPaint(i), "series " + i);
            assertTrue(!java.awt.Color.WHITE.equals(r.getSeriesFillPaint(i)), "a white band does not show");
            lines.add(r.getSeriesPaint(i));
        }
        assertEquals(3, lines.size(), "each depth its own colour");
    }
}
