package io.deepretrieval.model.serving;

import com.fasterxml.jackson.databind.JsonNode;
import io.deepretrieval.model.serving.RecommendationServer.BadRequest;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.deepretrieval.model.serving.RecommendationServer.parseLong;

/**
 * One recommendation request, from query parameters or a JSON body.
 *
 * @param user      the user id ("" when only a history is given)
 * @param timestamp the query time, or null for the latest time seen in fitting
 * @param k         how many items, or null for {@link RecommendationServer#DEFAULT_K}
 * @param exclude   item ids never to recommend
 * @param history   the user's recent item ids, oldest first, or null for the user's kept history
 * @param features  other query-feature values by column (JSON bodies only)
 */
record RecommendRequest(String user, Long timestamp, Long k, Set<String> exclude, List<String> history,
                        Map<String, Object> features) {
    private static final Set<String> GET_PARAMETERS = Set.of("user", "timestamp", "k", "exclude", "history");
    private static final Set<String> BODY_FIELDS = Set.of("user", "timestamp", "k", "exclude", "history", "features");

    static RecommendRequest of(Map<String, String> params) {
        for (String name : params.keySet()) {
            if (!GET_PARAMETERS.contains(name)) {
                throw new BadRequest(400, name, "unknown parameter " + name + "; known: user, timestamp, k,"
                        + " exclude, history");
            }
        }
        return new RecommendRequest(params.getOrDefault("user", ""),
                params.containsKey("timestamp") ? parseLong(params.get("timestamp"), "timestamp") : null,
                params.containsKey("k") ? parseLong(params.get("k"), "k") : null,
                new LinkedHashSet<>(ids(params.get("exclude"))),
                params.containsKey("history") ? ids(params.get("history")) : null, Map.of());
    }

    static RecommendRequest of(JsonNode body) {
        body.fieldNames().forEachRemaining(name -> {
            if (!BODY_FIELDS.contains(name)) {
                throw new BadRequest(400, name, "unknown field " + name + "; known: " + new java.util.TreeSet<>(BODY_FIELDS));
            }
        });
        JsonNode features = body.path("features");
        if (!features.isMissingNode() && !features.isObject()) {
            throw new BadRequest(400, "features", "field features must be an object of column: value");
        }
        Map<String, Object> values = new HashMap<>();
        features.fields().forEachRemaining(e -> values.put(e.getKey(), scalar(e.getValue(), e.getKey())));
        return new RecommendRequest(body.path("user").asText(""),
                body.has("timestamp") ? wholeNumber(body.get("timestamp"), "timestamp") : null,
                body.has("k") ? wholeNumber(body.get("k"), "k") : null,
                new LinkedHashSet<>(idArray(body.get("exclude"), "exclude")),
                body.has("history") ? idArray(body.get("history"), "history") : null, values);
    }

    private static List<String> ids(String commaSeparated) {
        List<String> out = new ArrayList<>();
        if (commaSeparated != null) {
            for (String id : commaSeparated.split(",")) {
                if (!id.isBlank()) {
                    out.add(id.strip());
                }
            }
        }
        return out;
    }

    private static List<String> idArray(JsonNode node, String field) {
        List<String> out = new ArrayList<>();
        if (node == null || node.isNull()) {
            return out;
        }
        if (!node.isArray()) {
            throw new BadRequest(400, field, "field " + field + " must be an array of item ids");
        }
        for (JsonNode id : node) {
            if (!id.isTextual() && !id.isIntegralNumber()) {
                throw new BadRequest(400, field, "field " + field + " holds " + id + ", not an item id");
            }
            out.add(id.asText());
        }
        return out;
    }

    private static long wholeNumber(JsonNode node, String field) {
        if (!node.canConvertToLong() || !node.isIntegralNumber()) {
            throw new BadRequest(400, field, "field " + field + " must be a whole number, got " + node);
        }
        return node.asLong();
    }

    private static Object scalar(JsonNode node, String column) {
        if (node.isNumber()) {
            return node.numberValue();
        }
        if (node.isTextual() || node.isBoolean()) {
            return node.asText();
        }
        if (node.isNull()) {
            return null;
        }
        if (node.isArray()) {
            List<String> out = new ArrayList<>();
            node.forEach(v -> out.add(v.asText()));
            return out;
        }
        throw new BadRequest(400, "features." + column, "feature " + column + " must be a number, a string or an"
                + " array, got " + node);
    }
}
