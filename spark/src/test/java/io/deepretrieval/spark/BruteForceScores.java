package io.deepretrieval.spark;

import io.deepretrieval.spark.ml.TwoTowerRetrievalModel;
import org.apache.spark.sql.Row;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The tests' oracle for recommendations: a query embedding dotted with every item embedding in double precision and
 * sorted here (best first, ties by item id), independent of the executors' blocked top-k search.
 */
public final class BruteForceScores {
    private BruteForceScores() {
    }

    /** A Spark array of numbers as floats. */
    public static float[] floats(List<?> values) {
        float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ((Number) values.get(i)).floatValue();
        }
        return out;
    }

    /** Every item of the model with its embedding, by item id (as a string). */
    public static Map<String, float[]> itemEmbeddings(TwoTowerRetrievalModel model) {
        Map<String, float[]> items = new HashMap<>();
        for (Row r : model.itemEmbeddings().collectAsList()) {
            items.put(String.valueOf(r.get(0)), floats(r.getList(1)));
        }
        return items;
    }

    /** Every item scored against {@code query}, best first, ties by item id. */
    public static List<Map.Entry<String, Double>> ranked(Map<String, float[]> items, float[] query) {
        List<Map.Entry<String, Double>> scores = new ArrayList<>();
        items.forEach((id, v) -> {
            double s = 0;
            for (int d = 0; d < query.length; d++) {
                s += (double) query[d] * v[d];
            }
            scores.add(Map.entry(id, s));
        });
        scores.sort(Comparator.<Map.Entry<String, Double>>comparingDouble(e -> -e.getValue()).thenComparing(Map.Entry::getKey));
        return scores;
    }

    /** The ids of the {@code k} best items for {@code query}. */
    public static List<String> topIds(Map<String, float[]> items, float[] query, int k) {
        return ranked(items, query).subList(0, k).stream().map(Map.Entry::getKey).toList();
    }
}
