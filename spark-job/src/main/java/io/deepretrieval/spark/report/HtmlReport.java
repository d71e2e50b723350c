package io.deepretrieval.spark.report;

import io.deepretrieval.model.io.AtomicFiles;
import io.deepretrieval.model.train.CurvePoint;
import io.deepretrieval.spark.baseline.AlsBaseline;
import io.deepretrieval.spark.ingest.DroppedLines;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/** {@code report.html}: settings, the table per depth, the baseline and the plot, in one file readable offline. */
public final class HtmlReport {
    private HtmlReport() {
    }

    public static void write(Path dir, String settingsJson, List<DepthResult> results, int[] ks,
                             AlsBaseline.Result baseline, List<DroppedLines> dropped, Path plot) throws IOException {
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>deep-retrieval sweep</title>\n")
                .append("<style>body{font-family:sans-serif;margin:2em;max-width:1000px}table{border-collapse:collapse}")
                .append("td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}")
                .append("pre{background:#f6f6f6;padding:1em;overflow:auto}.failed{color:#b00}</style></head><body>\n")
                .append("<h1>Deep retrieval depth sweep</h1>\n<h2>Results</h2>\n<table id=\"results\"><thead><tr><th>model</th><th>status</th><th>epochs</th>");
        for (int k : ks) {
            h.append("<th>top-").append(k).append("</th>");
        }
        h.append("<th>training time</th></tr></thead><tbody>\n");
        for (DepthResult r : results) {
            CurvePoint last = r.last();
            h.append("<tr").append(r.completed() ? "" : " class=\"failed\"").append("><td>two towers ")
                    .append(escape(r.displayName())).append("</td><td>")
                    .append(r.completed() ? "completed" : "failed: " + escape(r.failure())).append("</td><td>")
                    .append(last == null ? 0 : last.epoch()).append("</td>");
            for (int k : ks) {
                h.append("<td>").append(last == null ? "-" : String.format(Locale.ROOT, "%.4f", last.accuracy().at(k))).append("</td>");
            }
            h.append("<td>").append(String.format(Locale.ROOT, "%.0f s", r.trainSeconds())).append("</td></tr>\n");
        }
        if (baseline != null) {
            h.append("<tr id=\"baseline\"><td>").append(escape(baseline.label())).append("</td><td>baseline</td><td>-</td>");
            for (int k : ks) {
                h.append("<td>").append(String.format(Locale.ROOT, "%.4f", baseline.test().at(k))).append("</td>");
            }
            h.append("<td>-</td></tr>\n");
        }
        h.append("</tbody></table>\n");
        if (results.stream().anyMatch(r -> r.seed() != null)) {
            int k = ks[ks.length - 1];
            h.append("<h2>Across seeds</h2>\n<table id=\"seeds\"><tr><th>layer sizes</th><th>top-").append(k)
                    .append(" mean ± sd</th></tr>\n");
            for (SeedSpread.Spread s : SeedSpread.of(results, k)) {
                h.append("<tr><td>").append(escape(Arrays.toString(s.layerSizes()))).append("</td><td>")
                        .append(escape(s.text())).append("</td></tr>\n");
            }
            h.append("</table>\n");
        }
        if (Files.exists(plot)) {
            h.append("<h2>Accuracy curves</h2>\n<img id=\"plot\" alt=\"top-K accuracy against epoch\" src=\"data:image/png;base64,")
                    .append(Base64.getEncoder().encodeToString(Files.readAllBytes(plot))).append("\">\n");
        }
        if (!dropped.isEmpty()) {
            h.append("<h2>Dropped input lines</h2>\n<ul>\n");
            for (DroppedLines d : dropped) {
                h.append("<li>").append(escape(d.file())).append(": ").append(d.count()).append(" (e.g. ")
                        .append(escape(d.examples().get(0))).append(")</li>\n");
            }
            h.append("</ul>\n");
        }
        h.append("<h2>Settings</h2>\n<pre id=\"settings\">").append(escape(settingsJson)).append("</pre>\n")
                // Marks the page once the plot has decoded, so a headless browser check can tell it rendered.
                .append("<script>window.addEventListener('load',function(){var i=document.getElementById('plot');")
                .append("document.body.setAttribute('data-plot-loaded',String(!!i&&i.complete&&i.naturalWidth>0));});</script>\n")
                .append("</body></html>\n");
        AtomicFiles.writeString(dir.resolve("report.html"), h.toString());
    }

    private static String escape(String s) {
        return s == null ? "" : s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
