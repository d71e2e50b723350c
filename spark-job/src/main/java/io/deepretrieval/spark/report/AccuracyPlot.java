package io.deepretrieval.spark.report;

import io.deepretrieval.model.io.AtomicFiles;
import io.deepretrieval.model.towers.ModelConfig;
import io.deepretrieval.model.train.CurvePoint;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.DeviationRenderer;
import org.jfree.data.xy.YIntervalSeries;
import org.jfree.data.xy.YIntervalSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One PNG of top-K accuracy against epoch (JFreeChart, rendered headless): a line per depth setting; where a depth
 * ran with several seeds, the line is their mean and a shaded band spans ± one sample standard deviation.
 */
public final class AccuracyPlot {
    private AccuracyPlot() {
    }

    /** @param baselineLabel a reference drawn as a flat line (null for none) at {@code baselineValue} */
    public static void write(Path file, List<DepthResult> results, int k, String baselineLabel, double baselineValue)
            throws IOException {
        System.setProperty("java.awt.headless", "true");
        YIntervalSeriesCollection data = series(results, k);
        int curves = data.getSeriesCount();
        if (baselineLabel != null) {
            int lastEpoch = results.stream().flatMap(r -> r.curve().stream()).mapToInt(CurvePoint::epoch).max().orElse(1);
            YIntervalSeries flat = new YIntervalSeries(baselineLabel);
            flat.add(0, baselineValue, baselineValue, baselineValue);
            flat.add(lastEpoch, baselineValue, baselineValue, baselineValue);
            data.addSeries(flat);
        }
        JFreeChart chart = ChartFactory.createXYLineChart("Top-" + k + " accuracy on the test split", "epoch",
                "top-" + k + " accuracy", data, PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        plot.setRenderer(renderer(curves, baselineLabel != null));
        ((NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ChartUtils.writeChartAsPNG(png, chart, 900, 560);
        AtomicFiles.write(file, png.toByteArray());
    }

    private static final Color[] PALETTE = {
            new Color(0xD6, 0x27, 0x28), new Color(0x1F, 0x77, 0xB4), new Color(0x2C, 0xA0, 0x2C),
            new Color(0x94, 0x67, 0xBD), new Color(0xFF, 0x7F, 0x0E), new Color(0x8C, 0x56, 0x4B)};

    /**
     * Lines with their ± sd bands. Each curve's band is filled in its own line colour (translucent): the renderer's
     * default fill paint is white, which made the bands invisible.
     */
    static DeviationRenderer renderer(int curves, boolean baseline) {
        DeviationRenderer renderer = new DeviationRenderer(true, false);
        renderer.setAlpha(0.2f);
        for (int i = 0; i < curves; i++) {
            Color c = PALETTE[i % PALETTE.length];
            renderer.setSeriesStroke(i, new BasicStroke(2f));
            renderer.setSeriesPaint(i, c);
            renderer.setSeriesFillPaint(i, c);
        }
        if (baseline) {
            renderer.setSeriesStroke(curves, new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER,
                    10f, new float[]{8f, 6f}, 0f));
            renderer.setSeriesPaint(curves, Color.DARK_GRAY);
            renderer.setSeriesFillPaint(curves, Color.DARK_GRAY);
        }
        return renderer;
    }

    /**
     * The plotted curves: per depth, the mean over its completed runs at each epoch they all reached, with
     * mean ± sd as the interval (zero width for a single run); a failed run is drawn on its own, marked failed.
     */
    static YIntervalSeriesCollection series(List<DepthResult> results, int k) {
        Map<String, List<DepthResult>> byDepth = new LinkedHashMap<>();
        List<DepthResult> failed = new ArrayList<>();
        for (DepthResult r : results) {
            if (r.completed()) {
                byDepth.computeIfAbsent(ModelConfig.label(r.layerSizes()), x -> new ArrayList<>()).add(r);
            } else {
                failed.add(r);
            }
        }
        YIntervalSeriesCollection data = new YIntervalSeriesCollection();
        for (List<DepthResult> runs : byDepth.values()) {
            String name = runs.size() == 1 ? runs.get(0).displayName()
                    : java.util.Arrays.toString(runs.get(0).layerSizes()) + " mean ± sd of " + runs.size() + " seeds";
            data.addSeries(meanAndSpread(name, runs, k));
        }
        for (DepthResult r : failed) {
            data.addSeries(meanAndSpread(r.displayName() + " (failed)", List.of(r), k));
        }
        return data;
    }

    private static YIntervalSeries meanAndSpread(String name, List<DepthResult> runs, int k) {
        Map<Integer, List<Double>> byEpoch = new TreeMap<>();
        for (DepthResult r : runs) {
            for (CurvePoint p : r.curve()) {
                byEpoch.computeIfAbsent(p.epoch(), x -> new ArrayList<>()).add(p.accuracy().at(k));
            }
        }
        YIntervalSeries s = new YIntervalSeries(name);
        for (Map.Entry<Integer, List<Double>> e : byEpoch.entrySet()) {
            List<Double> v = e.getValue();
            if (v.size() < runs.size()) {
                continue; // not every run reached this epoch
            }
            double[] meanSd = SeedSpread.meanAndSd(v);
            s.add(e.getKey(), meanSd[0], meanSd[0] - meanSd[1], meanSd[0] + meanSd[1]);
        }
        return s;
    }
}
