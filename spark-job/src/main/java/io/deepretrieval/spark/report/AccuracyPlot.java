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

    public static void write(Path file, List<DepthResult> results, int k) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYSeriesCollection data = new XYSeriesCollection();
        for (DepthResult r : results) {
            XYSeries series = new XYSeries(Arrays.toString(r.layerSizes()) + (r.completed() ? "" : " (failed)"));
            for (CurvePoint p : r.curve()) {
                series.add(p.epoch(), p.accuracy().at(k));
            }
            data.addSeries(series);
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
        plot.setRenderer(renderer);
        ((org.jfree.chart.axis.NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ChartUtils.writeChartAsPNG(png, chart, 900, 560);
        AtomicFiles.write(file, png.toByteArray());
    }
}
