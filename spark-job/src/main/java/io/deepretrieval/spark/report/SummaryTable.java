package io.deepretrieval.spark.report;

import io.deepretrieval.spark.baseline.AlsBaseline;
import io.deepretrieval.spark.ingest.DroppedLines;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.deepretrieval.model.io.AtomicFiles;
import io.deepretrieval.model.train.CurvePoint;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** The sweep's summary: final top-K accuracies and training time per depth, as CSV, JSON and a Markdown table. */
public final class SummaryTable {
    private SummaryTable() {
    }

    public static void write(Path dir, List<DepthResult> results, int[] ks,
                             List<DroppedLines> dropped,
                             AlsBaseline.Result baseline) throws IOException {
        StringBuilder csv = new StringBuilder("layer_sizes,status,epochs");
        StringBuilder md = new StringBuilder("| layer_sizes | status | epochs |");
        StringBuilder rule = new StringBuilder("|---|---|---:|");
        for (int k : ks) {
            csv.append(",top").append(k);
            md.append(" top-").append(k).append(" |");
            rule.append("---:|");
        }
        csv.append(",train_seconds\n");
        md.append(" train time |\n").append(rule).append("---:|\n");
        ArrayNode rows = CurveFiles.JSON.createArrayNode();
        for (DepthResult r : results) {
            CurvePoint last = r.last();
            String layers = r.displayName();
            String status = r.completed() ? "completed" : "failed";
            int epochs = last == null ? 0 : last.epoch();
            csv.append('"').append(layers).append("\",").append(status).append(',').append(epochs);
            md.append("| ").append(layers).append(" | ").append(status).append(" | ").append(epochs).append(" |");
            ObjectNode row = rows.addObject().put("layerSizes", layers).put("status", status).put("epochs", epochs)
                    .put("trainSeconds", r.trainSeconds());
            if (!r.completed()) {
                row.put("failure", r.failure());
            }
            ObjectNode acc = row.putObject("accuracy");
            for (int k : ks) {
                String cell = last == null ? "" : String.format(Locale.ROOT, "%.4f", last.accuracy().at(k));
                csv.append(',').append(cell);
                md.append(' ').append(cell.isEmpty() ? "-" : cell).append(" |");
                if (last != null) {
                    acc.put("top" + k, last.accuracy().at(k));
                }
            }
            csv.append(',').append(String.format(Locale.ROOT, "%.1f", r.trainSeconds())).append('\n');
            md.append(' ').append(String.format(Locale.ROOT, "%.0f s", r.trainSeconds())).append(" |\n");
        }
        AtomicFiles.writeString(dir.resolve("summary.csv"), csv.toString());
        if (baseline != null) {
            md.append("| ").append(baseline.label()).append(" | baseline | - |");
            for (int k : ks) {
                md.append(' ').append(String.format(Locale.ROOT, "%.4f", baseline.test().at(k))).append(" |");
            }
            md.append(" - |\n");
        }
        if (results.stream().anyMatch(r -> r.seed() != null)) {
            int k = ks[ks.length - 1];
            md.append("\nFinal top-").append(k).append(" accuracy over seeds (mean ± sd):\n\n");
            for (SeedSpread.Spread s : SeedSpread.of(results, k)) {
                md.append("- ").append(Arrays.toString(s.layerSizes())).append(": ").append(s.text()).append('\n');
            }
        }
        long completed = results.stream().filter(DepthResult::completed).count();
        md.append('\n').append(completed).append(" of ").append(results.size()).append(" depth settings completed.\n");
        if (!dropped.isEmpty()) {
            md.append("\nInput lines dropped (inputPolicy dropMalformed):\n\n");
            for (var d : dropped) {
                md.append("- ").append(d.file()).append(": ").append(d.count()).append(" lines, e.g.\n");
                d.examples().forEach(e -> md.append("  - ").append(e).append('\n'));
            }
        }
        AtomicFiles.writeString(dir.resolve("summary.md"), md.toString());
        AtomicFiles.write(dir.resolve("summary.json"), CurveFiles.JSON.writeValueAsBytes(rows));
    }
}
