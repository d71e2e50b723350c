package io.deepretrieval.spark.experiment;

import io.deepretrieval.model.io.AtomicFiles;
import io.deepretrieval.spark.experiment.ObjectiveExperiment.Run;
import io.deepretrieval.spark.report.SeedSpread;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.renderer.category.StatisticalBarRenderer;
import org.jfree.data.statistics.DefaultStatisticalCategoryDataset;

import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * The objective experiment's report: every run as CSV, a Markdown table per split (mean ± sample sd over seeds of
 * top-100, recall@10 and NDCG@10, the stopping-slice figures the models were chosen by and, on the temporal split,
 * the next-item protocol's recall@10 and NDCG@10), the best early-stopped tower setting chosen on the stopping slice
 * (never on the test rows) against the baselines, and a bar chart of top-100 with the seeds' spread. A figure a model
 * does not have (NaN) shows as "-".
 */
public final class ExperimentReport {
    private ExperimentReport() {
    }

    /** One model on one split, over its seeds: mean and sd of the test figures, means of the others. */
    public record Summary(String split, String model, int runs, double[] top100, double[] recall10, double[] ndcg10,
                          double epochs, double stoppingTop100, double stoppingNdcg10, double[] nextRecall10,
                          double[] nextNdcg10, double nextQueries) {
    }

    /** Summaries in the order the models first appear, split by split. */
    public static List<Summary> summarize(List<Run> runs) {
        Map<String, List<Run>> groups = new LinkedHashMap<>();
        for (Run r : runs) {
            groups.computeIfAbsent(r.split() + "\u0000" + r.model(), k -> new ArrayList<>()).add(r);
        }
        List<Summary> out = new ArrayList<>();
        for (List<Run> g : groups.values()) {
            out.add(new Summary(g.get(0).split(), g.get(0).model(), g.size(), spread(g, Run::top100),
                    spread(g, Run::recall10), spread(g, Run::ndcg10), g.stream().mapToInt(Run::epochs).average().orElse(0),
                    spread(g, Run::stoppingTop100)[0], spread(g, Run::stoppingNdcg10)[0], spread(g, Run::nextRecall10),
                    spread(g, Run::nextNdcg10), g.stream().mapToLong(Run::nextQueries).average().orElse(0)));
        }
        return out;
    }

    /**
     * The best tower setting of a split: the early-stopped variant with the highest mean stopping-slice top-100
     * (null when there is none).
     */
    public static Summary best(List<Summary> summaries, String split) {
        return bestBy(summaries, split, Summary::stoppingTop100);
    }

    /**
     * The best tower setting of a split for per-user ranking: the early-stopped variant with the highest mean
     * stopping-slice NDCG@10, the figure ALS and item-to-item are tuned by (null when no variant has it).
     */
    public static Summary bestPerUser(List<Summary> summaries, String split) {
        return bestBy(summaries, split, Summary::stoppingNdcg10);
    }

    private static Summary bestBy(List<Summary> summaries, String split, ToDoubleFunction<Summary> figure) {
        List<String> stopped = Variant.DEFAULTS.stream().filter(Variant::earlyStopping).map(Variant::name).toList();
        return summaries.stream().filter(s -> s.split().equals(split) && stopped.contains(s.model())
                        && !Double.isNaN(figure.applyAsDouble(s)))
                .max(Comparator.comparingDouble(figure)).orElse(null);
    }

    /** Writes {@code results.csv}, {@code summary.md} and {@code top100.png} of {@code runs} into {@code dir}. */
    public static void write(Path dir, List<Run> runs, ObjectiveExperiment.Settings settings) throws IOException {
        StringBuilder csv = new StringBuilder("split,seed,model,top10,top50,top100,recall10,ndcg10,test_users,epochs,"
                + "stopping_top100,seconds,stopping_ndcg10,next_recall10,next_ndcg10,next_queries,"
                + "next_without_recommendations\n");
        for (Run r : runs) {
            csv.append(String.format(Locale.ROOT, "%s,%d,%s,%.4f,%.4f,%.4f,%.4f,%.4f,%d,%d,%.4f,%.0f,%.4f,%.4f,%.4f,%d,%d%n",
                    r.split(), r.seed(), r.model(), r.top10(), r.top50(), r.top100(), r.recall10(), r.ndcg10(),
                    r.testUsers(), r.epochs(), r.stoppingTop100(), r.seconds(), r.stoppingNdcg10(), r.nextRecall10(),
                    r.nextNdcg10(), r.nextQueries(), r.nextWithoutRecommendations()));
        }
        AtomicFiles.writeString(dir.resolve("results.csv"), csv.toString());
        List<Summary> summaries = summarize(runs);
        AtomicFiles.writeString(dir.resolve("summary.md"), markdown(summaries, settings));
        AtomicFiles.write(dir.resolve("top100.png"), chart(summaries));
    }

    static String markdown(List<Summary> summaries, ObjectiveExperiment.Settings settings) {
        StringBuilder md = new StringBuilder();
        md.append(String.format(Locale.ROOT, "Data %s; test fraction %.2f; stopping slice %.2f of the training rows;"
                        + " seeds %s; at most %d epochs; early stopping every %d epochs, patience %d.%n", settings.data(),
                settings.testFraction(), settings.stoppingFraction(), settings.seeds(), settings.epochs(),
                settings.evalEvery(), settings.patience()));
        md.append(String.format(Locale.ROOT, "%nSplits: random (a seeded share), temporal (the latest share by time),"
                + " last (each user's latest row; users with one row only train). The stopping slice is held out of"
                + " the training rows the same way. Per-user recall@10 and NDCG@10 leave each user's training items"
                + " out. Next-item (the %s split): each test row is a query whose history is the user's rows before"
                + " its time (training and earlier test rows), relevant is its item alone, the history's items are"
                + " left out; averaged over queries.%n", ObjectiveExperiment.NEXT_ITEM_SPLIT));
        for (String split : summaries.stream().map(Summary::split).distinct().toList()) {
            Summary best = best(summaries, split);
            Summary perUser = bestPerUser(summaries, split);
            boolean next = summaries.stream().anyMatch(s -> s.split().equals(split) && s.nextQueries() > 0);
            md.append("\n### ").append(split).append(" split\n\n")
                    .append("| model | seeds | top-100 | recall@10 | NDCG@10 | epochs | stopping-slice top-100 |"
                            + " stopping-slice NDCG@10 |").append(next ? " next-item recall@10 | next-item NDCG@10 |" : "")
                    .append("\n|---|---:|---:|---:|---:|---:|---:|---:|").append(next ? "---:|---:|" : "").append('\n');
            for (Summary s : summaries) {
                if (!s.split().equals(split)) {
                    continue;
                }
                md.append(String.format(Locale.ROOT, "| %s%s | %d | %s | %s | %s | %s | %s | %s |", s.model(),
                        marks(s, best, perUser), s.runs(), pm(s.top100()),
                        pm(s.recall10()), pm(s.ndcg10()), baseline(s.model()) ? "-"
                                : String.format(Locale.ROOT, "%.0f", s.epochs()),
                        figure(s.stoppingTop100()), figure(s.stoppingNdcg10())));
                if (next) {
                    md.append(String.format(Locale.ROOT, " %s | %s |", pm(s.nextRecall10()), pm(s.nextNdcg10())));
                }
                md.append('\n');
            }
            if (best == null) {
                continue;
            }
            Summary als = find(summaries, split, ObjectiveExperiment.ALS);
            Summary popular = find(summaries, split, ObjectiveExperiment.POPULARITY);
            Summary itemToItem = find(summaries, split, ObjectiveExperiment.ITEM_TO_ITEM);
            if (als != null) {
                md.append(String.format(Locale.ROOT, "%nBest towers (%s) minus ALS, top-100: %+.4f (means of %d and %d"
                        + " seeds).%n", best.model(), best.top100()[0] - als.top100()[0], best.runs(), als.runs()));
            }
            if (popular != null) {
                md.append(String.format(Locale.ROOT, "%nBest towers (%s) minus most popular, top-100: %+.4f.%n",
                        best.model(), best.top100()[0] - popular.top100()[0]));
            }
            if (itemToItem != null) {
                md.append(String.format(Locale.ROOT, "%nBest towers (%s) minus item-to-item, NDCG@10: %+.4f.%n",
                        best.model(), best.ndcg10()[0] - itemToItem.ndcg10()[0]));
            }
            if (perUser != null && als != null) {
                md.append(String.format(Locale.ROOT, "%nBest per-user towers (%s) minus ALS: recall@10 %+.4f, NDCG@10"
                                + " %+.4f (tower sd %.4f / %.4f; means of %d and %d seeds).%n", perUser.model(),
                        perUser.recall10()[0] - als.recall10()[0], perUser.ndcg10()[0] - als.ndcg10()[0],
                        perUser.recall10()[1], perUser.ndcg10()[1], perUser.runs(), als.runs()));
            }
        }
        return md.toString();
    }

    /** The table's note on a row: which best it is (top-100, per user, or both), both chosen on the stopping slice. */
    private static String marks(Summary s, Summary best, Summary perUser) {
        if (s == best && s == perUser) {
            return " (best top-100 and per user, chosen on the stopping slice)";
        }
        return s == best ? " (best top-100, chosen on the stopping slice)"
                : s == perUser ? " (best per user, chosen on the stopping slice)" : "";
    }

    private static Summary find(List<Summary> summaries, String split, String model) {
        return summaries.stream().filter(s -> s.split().equals(split) && s.model().equals(model)).findFirst().orElse(null);
    }

    private static boolean baseline(String model) {
        return ObjectiveExperiment.BASELINES.contains(model);
    }

    private static String pm(double[] meanSd) {
        return Double.isNaN(meanSd[0]) ? "-" : String.format(Locale.ROOT, "%.4f ± %.4f", meanSd[0], meanSd[1]);
    }

    private static String figure(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.4f", v);
    }

    private static double[] spread(List<Run> runs, ToDoubleFunction<Run> f) {
        return SeedSpread.meanAndSd(runs.stream().map(f::applyAsDouble).toList());
    }

    private static byte[] chart(List<Summary> summaries) throws IOException {
        DefaultStatisticalCategoryDataset data = new DefaultStatisticalCategoryDataset();
        for (Summary s : summaries) {
            if (!Double.isNaN(s.top100()[0])) {
                // Item-to-item ranks users, not the tutorial's per-rating queries: it has no top-100 bar.
                data.add(s.top100()[0], s.top100()[1], s.split() + " split", s.model());
            }
        }
        CategoryAxis models = new CategoryAxis("model");
        models.setCategoryLabelPositions(CategoryLabelPositions.UP_45);
        NumberAxis accuracy = new NumberAxis("top-100 accuracy (mean ± sd over seeds)");
        StatisticalBarRenderer bars = new StatisticalBarRenderer();
        bars.setErrorIndicatorPaint(Color.BLACK);
        CategoryPlot plot = new CategoryPlot(data, models, accuracy, bars);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        JFreeChart chart = new JFreeChart("MovieLens: towers vs ALS and most popular on the same held-out rows", plot);
        chart.setBackgroundPaint(Color.WHITE);
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ChartUtils.writeChartAsPNG(png, chart, 1000, 560);
        return png.toByteArray();
    }
}
