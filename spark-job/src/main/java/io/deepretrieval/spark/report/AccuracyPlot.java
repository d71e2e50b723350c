package io.deepretrieval.spark.report;

import io.deepretrieval.model.io.AtomicFiles;
import io.deepretrieval.model.train.CurvePoint;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/** One PNG of top-K accuracy against epoch, a line per depth setting (JFreeChart, rendered headless). */
public final class AccuracyPlot {
    private AccuracyPlot() {
    }

    /** @param baselineLabel a reference drawn as a flat line (null for none) at {@code baselineValue} */
    public static void write(Path file, List<DepthResult> results, int k, String baselineLabel, double baselineValue)
            throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYSeriesCollection data = new XYSeriesCollection();
        for (DepthResult r : results) {
            XYSeries series = new XYSeries(r.displayName() + (r.completed() ? "" : " (failed)"));
            for (CurvePoint p : r.curve()) {
                series.add(p.epoch(), p.accuracy().at(k));
            }
            data.addSeries(series);
        }
        int lastEpoch = results.stream().flatMap(r -> r.curve().stream()).mapToInt(CurvePoint::epoch).max().orElse(1);
        if (baselineLabel != null) {
            XYSeries flat = new XYSeries(baselineLabel);
            flat.add(0, baselineValue);
            flat.add(lastEpoch, baselineValue);
            data.addSeries(flat);
        }
        JFreeChart chart = ChartFactory.createXYLineChart("Top-" + k + " accuracy on the test split", "epoch",
                "top-" + k + " accuracy", data, PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
        for (int i = 0; i < results.size(); i++) {
            renderer.setSeriesStroke(i, new BasicStroke(2f));
        }
        if (baselineLabel != null) {
            renderer.setSeriesStroke(results.size(), new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER,
                    10f, new float[]{8f, 6f}, 0f));
            renderer.setSeriesPaint(results.size(), Color.DARK_GRAY);
        }
        plot.setRenderer(renderer);
        ((org.jfree.chart.axis.NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ChartUtils.writeChartAsPNG(png, chart, 900, 560);
        AtomicFiles.write(file, png.toByteArray());
    }
}
