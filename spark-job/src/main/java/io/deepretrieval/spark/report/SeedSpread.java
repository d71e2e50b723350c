package io.deepretrieval.spark.report;

import io.deepretrieval.model.io.AtomicFiles;
import io.deepretrieval.model.towers.ModelConfig;
import io.deepretrieval.model.train.CurvePoint;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Across seeds: mean and sample standard deviation of the final top-K accuracy per depth (completed runs only), so
 * that "two layers beat one" can be checked against run-to-run noise. Written as {@code seeds.json}.
 */
public final class SeedSpread {
    private SeedSpread() {
    }

    /** Mean ± sd of one depth over its seeds. */
    public record Spread(int[] layerSizes, int runs, double mean, double sd) {
        public String text() {
            return String.format(Locale.ROOT, "%.4f ± %.4f (n=%d)", mean, sd, runs);
        }
    }

    public static List<Spread> of(List<DepthResult> results, int k) {
        Map<String, List<Double>> finals = new LinkedHashMap<>();
        Map<String, int[]> layers = new LinkedHashMap<>();
        for (DepthResult r : results) {
            String key = ModelConfig.label(r.layerSizes());
            layers.put(key, r.layerSizes());
            finals.computeIfAbsent(key, x -> new ArrayList<>());
            CurvePoint last = r.last();
            if (r.completed() && last != null) {
                finals.get(key).add(last.accuracy().at(k));
            }
        }
        List<Spread> out = new ArrayList<>();
        for (Map.Entry<String, List<Double>> e : finals.entrySet()) {
            double[] meanSd = meanAndSd(e.getValue());
            out.add(new Spread(layers.get(e.getKey()), e.getValue().size(), meanSd[0], meanSd[1]));
        }
        return out;
    }

    /** Mean and sample standard deviation (0 for one value, NaN mean for none). */
    public static double[] meanAndSd(List<Double> v) {
        double mean = v.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        double ss = v.stream().mapToDouble(x -> (x - mean) * (x - mean)).sum();
        return new double[]{mean, v.size() > 1 ? Math.sqrt(ss / (v.size() - 1)) : 0};
    }

    public static void write(Path dir, List<DepthResult> results, int k) throws IOException {
        var doc = CurveFiles.JSON.createArrayNode();
        for (Spread s : of(results, k)) {
            doc.addObject().put("layerSizes", Arrays.toString(s.layerSizes())).put("runs", s.runs())
                    .put("top" + k + "Mean", s.mean()).put("top" + k + "Sd", s.sd());
        }
        AtomicFiles.write(dir.resolve("seeds.json"), CurveFiles.JSON.writeValueAsBytes(doc));
    }
}
