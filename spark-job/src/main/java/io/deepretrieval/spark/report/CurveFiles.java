package io.deepretrieval.spark.report;

import io.deepretrieval.model.metrics.TopKAccuracy;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.deepretrieval.model.io.AtomicFiles;
import io.deepretrieval.model.train.CurvePoint;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/** Writes one depth's accuracy curve (epoch → top-K accuracies and mean loss) as CSV and as JSON. */
public final class CurveFiles {
    /** The JSON writer of every report file (indented). */
    public static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private CurveFiles() {
    }

    public static Path csvPath(Path dir, DepthResult r) {
        return dir.resolve("curve_" + r.label() + ".csv");
    }

    public static Path jsonPath(Path dir, DepthResult r) {
        return dir.resolve("curve_" + r.label() + ".json");
    }

    /** Reads back a curve written by {@link #write}: how a resumed sweep picks up depths already done. */
    public static DepthResult read(Path json) throws IOException {
        com.fasterxml.jackson.databind.JsonNode doc = JSON.readTree(json.toFile());
        int[] layers = java.util.Arrays.stream(doc.get("layerSizes").asText().replaceAll("[\\[\\] ]", "").split(","))
                .mapToInt(Integer::parseInt).toArray();
        int[] ks = JSON.convertValue(doc.get("ks"), int[].class);
        java.util.List<CurvePoint> points = new java.util.ArrayList<>();
        for (com.fasterxml.jackson.databind.JsonNode n : doc.get("points")) {
            double[] acc = new double[ks.length];
            for (int i = 0; i < ks.length; i++) {
                acc[i] = n.get("accuracy").get("top" + ks[i]).asDouble();
            }
            points.add(new CurvePoint(n.get("epoch").asInt(), n.get("meanLoss").asDouble(),
                    new TopKAccuracy(ks, acc), n.get("trainSeconds").asDouble()));
        }
        double seconds = points.isEmpty() ? 0 : points.get(points.size() - 1).trainSeconds();
        Long seed = doc.has("seed") ? doc.get("seed").asLong() : null;
        return new DepthResult(layers, seed, points, seconds, doc.get("completed").asBoolean() ? null : doc.path("failure").asText());
    }

    public static void write(Path dir, DepthResult r, int[] ks) throws IOException {
        StringBuilder csv = new StringBuilder("epoch,mean_loss");
        for (int k : ks) {
            csv.append(",top").append(k);
        }
        csv.append(",train_seconds\n");
        ArrayNode points = JSON.createArrayNode();
        for (CurvePoint p : r.curve()) {
            csv.append(p.epoch()).append(',').append(String.format(Locale.ROOT, "%.4f", p.meanLoss()));
            ObjectNode point = points.addObject().put("epoch", p.epoch()).put("meanLoss", p.meanLoss());
            ObjectNode acc = point.putObject("accuracy");
            for (int k : ks) {
                double a = p.accuracy().at(k);
                csv.append(',').append(String.format(Locale.ROOT, "%.5f", a));
                acc.put("top" + k, a);
            }
            csv.append(',').append(String.format(Locale.ROOT, "%.1f", p.trainSeconds())).append('\n');
            point.put("trainSeconds", p.trainSeconds());
        }
        ObjectNode doc = JSON.createObjectNode();
        doc.put("layerSizes", Arrays.toString(r.layerSizes()));
        if (r.seed() != null) {
            doc.put("seed", r.seed());
        }
        doc.putPOJO("ks", ks);
        doc.put("completed", r.completed());
        if (!r.completed()) {
            doc.put("failure", r.failure());
        }
        doc.set("points", points);
        AtomicFiles.writeString(csvPath(dir, r), csv.toString());
        AtomicFiles.write(jsonPath(dir, r), JSON.writeValueAsBytes(doc));
    }
}
