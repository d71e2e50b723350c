package io.deepretrieval.spark.config;

import io.deepretrieval.model.task.RetrievalObjective;
import io.deepretrieval.spark.ingest.InputPolicy;
import io.deepretrieval.spark.train.DistributedOptions;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.deepretrieval.model.towers.ModelConfig;

import java.io.IOException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;

/**
 * Settings of a depth sweep, as in {@code conf/sweep.json}; the defaults are the tutorial's. Loading checks every
 * key's type and range and rejects unknown keys (with a suggestion), reporting all problems at once.
 */
@JsonPropertyOrder(alphabetic = false)
public record SweepConfig(
        @JsonProperty("data") String data,
        @JsonProperty("out") String out,
        @JsonProperty("master") String master,
        @JsonProperty("seed") long seed,
        @JsonProperty("epochs") int epochs,
        @JsonProperty("evalEvery") int evalEvery,
        @JsonProperty("batchSize") int batchSize,
        @JsonProperty("layerSizes") List<List<Integer>> layerSizes,
        @JsonProperty("embeddingDim") int embeddingDim,
        @JsonProperty("learningRate") double learningRate,
        @JsonProperty("learningRateSchedule") Map<String, Double> learningRateSchedule,
        @JsonProperty("initialAccumulator") double initialAccumulator,
        @JsonProperty("epsilon") double epsilon,
        @JsonProperty("testFraction") double testFraction,
        @JsonProperty("timestampBuckets") int timestampBuckets,
        @JsonProperty("maxTokens") int maxTokens,
        @JsonProperty("topK") List<Integer> topK,
        @JsonProperty("workers") int workers,
        @JsonProperty("batchSizePerWorker") int batchSizePerWorker,
        @JsonProperty("averagingFrequency") int averagingFrequency,
        @JsonProperty("repartition") boolean repartition,
        @JsonProperty("storageLevel") String storageLevel,
        @JsonProperty("inputPolicy") String inputPolicy,
        @JsonProperty("alsBaseline") boolean alsBaseline,
        @JsonProperty("seeds") int seeds,
        @JsonProperty("nativeThreads") int nativeThreads,
        @JsonProperty("stepThreads") int stepThreads,
        @JsonProperty("temperature") double temperature,
        @JsonProperty("removeAccidentalHits") boolean removeAccidentalHits,
        @JsonProperty("logQCorrection") boolean logQCorrection,
        @JsonProperty("mixedNegatives") int mixedNegatives) {

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_JAVA_COMMENTS)
            // A key given twice or a second value after the object would otherwise be read silently.
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .build();

    /** The default data folder (relative to the working directory); the sweep downloads it when it is missing. */
    public static final String DEFAULT_DATA = "data/ml-100k";

    /** The tutorial's settings. */
    public static SweepConfig defaults() {
        return new SweepConfig(DEFAULT_DATA, "results", "local[*]", 42, 300, 5, 2048,
                List.of(List.of(32), List.of(64, 32), List.of(128, 64, 32)),
                32, 0.1, Map.of(), 0.1, 1e-7, 0.2, 1000, 10_000, List.of(1, 5, 10, 50, 100),
                0, 2048, 20, true, "MEMORY_ONLY", "failFast", true, 1, 1, 0, 1.0, false, false, 0);
    }

    /** Loads a config file over the defaults; keys it leaves out keep their default. */
    public static SweepConfig load(Path file) {
        JsonNode node;
        try {
            node = JSON.readTree(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new ConfigException(file.toString(), List.of("cannot read it as JSON: " + e.getMessage()));
        }
        if (!(node instanceof ObjectNode obj)) {
            throw new ConfigException(file.toString(), List.of("the file must hold one JSON object"));
        }
        return defaults().with(obj, file.toString());
    }

    /** A copy with the keys of {@code overrides} replaced; validates the result. */
    public SweepConfig with(ObjectNode overrides, String source) {
        List<String> problems = new ArrayList<>();
        ObjectNode merged = JSON.valueToTree(this);
        List<String> known = new ArrayList<>();
        merged.fieldNames().forEachRemaining(known::add);
        for (Iterator<Map.Entry<String, JsonNode>> it = overrides.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!known.contains(e.getKey())) {
                problems.add("unknown key '" + e.getKey() + "'" + suggestion(e.getKey(), known));
                continue;
            }
            String typeProblem = typeProblem(e.getKey(), e.getValue());
            if (typeProblem != null) {
                problems.add(typeProblem);
                continue;
            }
            merged.set(e.getKey(), e.getValue());
        }
        SweepConfig result = this;
        if (problems.isEmpty()) {
            try {
                result = JSON.treeToValue(merged, SweepConfig.class);
            } catch (IOException e) {
                problems.add(e.getMessage());
            }
        }
        problems.addAll(result.problems());
        if (!problems.isEmpty()) {
            throw new ConfigException(source, problems);
        }
        return result;
    }

    /** Range problems of this config (empty when valid). */
    public List<String> problems() {
        List<String> p = new ArrayList<>();
        if (data == null || data.isBlank()) {
            p.add("data: must name the MovieLens folder");
        }
        if (out == null || out.isBlank()) {
            p.add("out: must name the results folder");
        }
        if (master == null || master.isBlank()) {
            p.add("master: must be a Spark master URL such as local[*]");
        }
        if (epochs < 1) {
            p.add("epochs: must be >= 1, got " + epochs);
        }
        if (evalEvery < 1) {
            p.add("evalEvery: must be >= 1, got " + evalEvery);
        }
        if (batchSize < 1) {
            p.add("batchSize: must be >= 1, got " + batchSize);
        }
        if (layerSizes == null || layerSizes.isEmpty()) {
            p.add("layerSizes: must list at least one depth setting, e.g. [[32], [64, 32]]");
        } else {
            for (List<Integer> depth : layerSizes) {
                if (depth == null || depth.isEmpty()) {
                    p.add("layerSizes: a depth setting is empty; each needs at least one layer size");
                    continue;
                }
                for (Integer size : depth) {
                    if (size == null || size < 1 || size > ModelConfig.MAX_LAYER_SIZE) {
                        p.add("layerSizes: layer size " + size + " in " + depth + " must be between 1 and "
                                + ModelConfig.MAX_LAYER_SIZE);
                    }
                }
            }
        }
        if (embeddingDim < 1) {
            p.add("embeddingDim: must be >= 1, got " + embeddingDim);
        }
        if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
            p.add("learningRate: must be a positive number, got " + learningRate);
        }
        if (learningRateSchedule == null) {
            p.add("learningRateSchedule: must be an object of epoch -> rate, e.g. {\"100\": 0.05}");
        } else {
            for (Map.Entry<String, Double> e : learningRateSchedule.entrySet()) {
                Integer epoch = parseEpoch(e.getKey());
                if (epoch == null || epoch < 1) {
                    p.add("learningRateSchedule: '" + e.getKey() + "' is not an epoch (an integer >= 1)");
                }
                if (e.getValue() == null || !(e.getValue() > 0) || e.getValue().isInfinite()) {
                    p.add("learningRateSchedule: the rate from epoch " + e.getKey() + " must be a positive number, got "
                            + e.getValue());
                }
            }
        }
        if (!(initialAccumulator >= 0) || Double.isInfinite(initialAccumulator)) {
            p.add("initialAccumulator: must be >= 0, got " + initialAccumulator);
        }
        if (!(epsilon > 0)) {
            p.add("epsilon: must be > 0, got " + epsilon);
        }
        if (!(testFraction > 0 && testFraction < 1)) {
            p.add("testFraction: must be between 0 and 1 (exclusive), got " + testFraction);
        }
        if (timestampBuckets < 2) {
            p.add("timestampBuckets: must be >= 2, got " + timestampBuckets);
        }
        if (maxTokens < 3) {
            p.add("maxTokens: must be >= 3 (padding, [UNK] and one token), got " + maxTokens);
        }
        if (topK == null || topK.isEmpty() || topK.stream().anyMatch(k -> k == null || k < 1)) {
            p.add("topK: must list K values >= 1, got " + topK);
        }
        if (nativeThreads < 0) {
            p.add("nativeThreads: must be >= 0 (ND4J threads per training task; 0 = ND4J's default, all cores), got "
                    + nativeThreads);
        }
        if (stepThreads < 0) {
            p.add("stepThreads: must be >= 0 (threads a training step splits its batch over; 0 = every CPU core in the"
                    + " driver JVM, spark.task.cpus per Spark task), got " + stepThreads);
        }
        try {
            objective();
        } catch (IllegalArgumentException e) {
            p.add(e.getMessage().replaceFirst("^(temperature|mixedNegatives) must", "$1: must"));
        }
        if (seeds < 1) {
            p.add("seeds: must be >= 1 (runs per depth, each with its own initialisation and shuffling), got " + seeds);
        }
        if (workers < 0) {
            p.add("workers: must be 0 (train in the driver JVM) or a number of Spark workers, got " + workers);
        }
        if (batchSizePerWorker < 1) {
            p.add("batchSizePerWorker: must be >= 1, got " + batchSizePerWorker);
        }
        if (averagingFrequency < 1) {
            p.add("averagingFrequency: must be >= 1, got " + averagingFrequency);
        }
        try {
            InputPolicy.fromConfig(inputPolicy);
        } catch (IllegalArgumentException e) {
            p.add(e.getMessage());
        }
        try {
            org.apache.spark.storage.StorageLevel.fromString(String.valueOf(storageLevel));
        } catch (IllegalArgumentException e) {
            p.add("storageLevel: '" + storageLevel + "' is not a Spark storage level (e.g. MEMORY_ONLY, MEMORY_AND_DISK)");
        }
        return p;
    }

    /** The model settings for one depth, initialised with {@code initSeed}. */
    public ModelConfig model(List<Integer> layers, long initSeed) {
        java.util.TreeMap<Integer, Double> schedule = new java.util.TreeMap<>();
        learningRateSchedule.forEach((epoch, rate) -> schedule.put(parseEpoch(epoch), rate));
        return new ModelConfig(embeddingDim, layers.stream().mapToInt(Integer::intValue).toArray(),
                learningRate, initialAccumulator, epsilon, initSeed, schedule, objective());
    }

    /** The in-batch softmax's options (keys temperature, removeAccidentalHits, logQCorrection, mixedNegatives). */
    public RetrievalObjective objective() {
        return new RetrievalObjective(temperature, removeAccidentalHits, logQCorrection,
                mixedNegatives);
    }

    private static Integer parseEpoch(String key) {
        try {
            return Integer.valueOf(key.trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** Parameter-averaging settings, or null when training runs in the driver JVM ({@code workers = 0}). */
    public DistributedOptions distributed() {
        return workers == 0 ? null : new DistributedOptions(workers, batchSizePerWorker,
                averagingFrequency, repartition, storageLevel, nativeThreads);
    }

    public int[] topKArray() {
        return topK.stream().mapToInt(Integer::intValue).toArray();
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Null when {@code given} has the type of the key's record component, elements included; else the problem. */
    private static String typeProblem(String key, JsonNode given) {
        Type type = Arrays.stream(SweepConfig.class.getRecordComponents()).filter(c -> c.getName().equals(key))
                .findFirst().orElseThrow().getGenericType();
        if (matches(type, given)) {
            return null;
        }
        if (type == int.class && given.isIntegralNumber()) {
            return key + ": must be an integer between " + Integer.MIN_VALUE + " and " + Integer.MAX_VALUE
                    + ", got " + given;
        }
        return key + ": must be " + describe(type, false) + ", got " + given;
    }

    private static boolean matches(Type type, JsonNode node) {
        if (type == int.class || type == Integer.class) {
            return node.isIntegralNumber() && node.canConvertToInt();
        }
        if (type == long.class || type == Long.class) {
            return node.isIntegralNumber() && node.canConvertToLong();
        }
        if (type == double.class || type == Double.class) {
            return node.isNumber();
        }
        if (type == boolean.class) {
            return node.isBoolean();
        }
        if (type == String.class) {
            return node.isTextual();
        }
        // List<X> or Map<String, X>: the value's elements (or an object's values) must each be an X.
        ParameterizedType generic = (ParameterizedType) type;
        Type[] arguments = generic.getActualTypeArguments();
        Type element = arguments[arguments.length - 1];
        if (generic.getRawType() == List.class) {
            return node.isArray() && StreamSupport.stream(node.spliterator(), false).allMatch(n -> matches(element, n));
        }
        return node.isObject() && StreamSupport.stream(node.spliterator(), false).allMatch(n -> matches(element, n));
    }

    /** A type as a config error names it: "an integer", "a list of lists of integers", "an object of numbers". */
    private static String describe(Type type, boolean plural) {
        if (type == int.class || type == Integer.class || type == long.class || type == Long.class) {
            return plural ? "integers" : "an integer";
        }
        if (type == double.class || type == Double.class) {
            return plural ? "numbers" : "a number";
        }
        if (type == boolean.class) {
            return plural ? "booleans" : "true or false";
        }
        if (type == String.class) {
            return plural ? "strings" : "a string";
        }
        ParameterizedType generic = (ParameterizedType) type;
        Type[] arguments = generic.getActualTypeArguments();
        String elements = describe(arguments[arguments.length - 1], true);
        if (generic.getRawType() == List.class) {
            return (plural ? "lists of " : "a list of ") + elements;
        }
        return (plural ? "objects of " : "an object of ") + elements;
    }

    private static String suggestion(String key, List<String> known) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String k : known) {
            int d = levenshtein(key.toLowerCase(), k.toLowerCase());
            if (d < bestDistance) {
                bestDistance = d;
                best = k;
            }
        }
        return best != null && bestDistance <= Math.max(2, key.length() / 3) ? " (did you mean '" + best + "'?)" : "";
    }

    private static int levenshtein(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
