package io.deepretrieval.model.serving;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.deepretrieval.model.features.CandidateCorpus;
import io.deepretrieval.model.features.FeatureColumns;
import io.deepretrieval.model.features.FeatureSpec;
import io.deepretrieval.model.features.FittedFeature;
import io.deepretrieval.model.io.AtomicFiles;
import io.deepretrieval.model.io.NdArrays;
import io.deepretrieval.model.towers.TwoTowerModel;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A trained model as one folder that answers queries without Spark: both towers in SameDiff's own (FlatBuffers)
 * format, the feature spec, the settings and final metrics, and the precomputed embeddings of every candidate.
 * Loading reads only data formats (FlatBuffers, JSON); no Java object deserialization.
 */
public final class SavedModel {
    public static final String QUERY_TOWER = "query_tower.sdz";
    public static final String CANDIDATE_TOWER = "candidate_tower.sdz";
    public static final String SPEC = "feature-spec.json";
    public static final String CANDIDATES = "candidates.json";
    public static final String INFO = "model.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final FeatureSpec spec;
    private final SameDiff queryTower;
    private final List<String> movieIds;
    private final List<String> titles;
    private final INDArray candidateEmbeddings;
    private final JsonNode info;

    private SavedModel(FeatureSpec spec, SameDiff queryTower, List<String> movieIds, List<String> titles,
                       INDArray candidateEmbeddings, JsonNode info) {
        this.spec = spec;
        this.queryTower = queryTower;
        this.movieIds = movieIds;
        this.titles = titles;
        this.candidateEmbeddings = candidateEmbeddings;
        this.info = info;
    }

    /** Writes the bundle into {@code dir} (created); {@code info} holds settings and final metrics. */
    public static void save(Path dir, TwoTowerModel model, FeatureSpec spec, CandidateCorpus corpus, ObjectNode info)
            throws IOException {
        Files.createDirectories(dir);
        SameDiff query = ServingGraphs.queryTower(model);
        SameDiff candidate = ServingGraphs.candidateTower(model);
        saveGraph(query, dir.resolve(QUERY_TOWER));
        saveGraph(candidate, dir.resolve(CANDIDATE_TOWER));
        spec.write(dir.resolve(SPEC));
        INDArray embeddings = candidateEmbeddings(candidate, spec, corpus);
        ObjectNode doc = JSON.createObjectNode();
        ArrayNode ids = doc.putArray("movieIds");
        ArrayNode names = doc.putArray("titles");
        ArrayNode vectors = doc.putArray("embeddings");
        float[] flat = NdArrays.floats(embeddings);
        int dim = (int) embeddings.columns();
        for (int r = 0; r < corpus.size(); r++) {
            ids.add(corpus.movieId(r));
            names.add(corpus.title(r));
            ArrayNode v = vectors.addArray();
            for (int k = 0; k < dim; k++) {
                v.add(flat[r * dim + k]);
            }
        }
        AtomicFiles.write(dir.resolve(CANDIDATES), JSON.writeValueAsBytes(doc));
        AtomicFiles.write(dir.resolve(INFO), JSON.writeValueAsBytes(info));
    }

    private static void saveGraph(SameDiff sd, Path file) throws IOException {
        AtomicFiles.write(file, tmp -> sd.save(tmp.toFile(), false));
    }

    /** Runs the candidate tower graph over every record of the corpus. */
    static INDArray candidateEmbeddings(SameDiff candidate, FeatureSpec spec, CandidateCorpus corpus) {
        return candidate.output(ServingGraphs.inputs(spec.candidate(), corpus.features()),
                ServingGraphs.CANDIDATE_EMBEDDING).get(ServingGraphs.CANDIDATE_EMBEDDING).dup();
    }

    /**
     * A model to serve from parts already in memory (e.g. a fitted Spark ML model's): the features, the query
     * tower's serving graph, the candidates' ids, titles and embeddings [m, dim], and the metadata to report.
     */
    public static SavedModel of(FeatureSpec spec, SameDiff queryTower, List<String> itemIds, List<String> titles,
                                INDArray candidateEmbeddings, JsonNode info) {
        if (itemIds.size() != titles.size() || itemIds.size() != candidateEmbeddings.rows()) {
            throw new IllegalArgumentException("item ids, titles and embeddings differ in length");
        }
        return new SavedModel(spec, queryTower, List.copyOf(itemIds), List.copyOf(titles), candidateEmbeddings, info);
    }

    public static SavedModel load(Path dir) throws IOException {
        io.deepretrieval.model.compat.Nd4jCompat.check();
        for (String f : List.of(QUERY_TOWER, SPEC, CANDIDATES, INFO)) {
            if (!Files.isRegularFile(dir.resolve(f))) {
                throw new IOException(dir + " is not a saved deep-retrieval model: " + f + " is missing");
            }
        }
        FeatureSpec spec = FeatureSpec.read(dir.resolve(SPEC));
        SameDiff query = SameDiff.load(dir.resolve(QUERY_TOWER).toFile(), false);
        JsonNode doc = JSON.readTree(dir.resolve(CANDIDATES).toFile());
        List<String> ids = new ArrayList<>();
        List<String> titles = new ArrayList<>();
        doc.get("movieIds").forEach(n -> ids.add(n.asText()));
        doc.get("titles").forEach(n -> titles.add(n.asText()));
        float[][] embeddings = JSON.treeToValue(doc.get("embeddings"), float[][].class);
        return new SavedModel(spec, query, ids, titles, Nd4j.create(embeddings),
                JSON.readTree(dir.resolve(INFO).toFile()));
    }

    public FeatureSpec spec() {
        return spec;
    }

    public JsonNode info() {
        return info;
    }

    /** True when the user id is in the vocabulary (else the out-of-vocabulary embedding answers). */
    public boolean knowsUser(String userId) {
        FittedFeature user = spec.userFeature();
        return user != null && user.index(userId) != 0;
    }

    /**
     * The query embedding of a user at a time; other query features (side features of the user) are taken as
     * unknown (out-of-vocabulary, or the fitted mean). {@link #queryEmbedding(Map)} takes them all.
     */
    public INDArray queryEmbedding(String userId, long timestamp) {
        Map<String, Object> values = new java.util.HashMap<>();
        values.put(spec.userColumn(), userId);
        FittedFeature time = spec.timestampFeature();
        if (time != null) {
            values.put(time.column(), timestamp);
        }
        return queryEmbedding(values);
    }

    /** The query embedding of one row of query-feature values by column name (a missing column: unknown). */
    public INDArray queryEmbedding(Map<String, Object> columns) {
        List<String> names = spec.queryColumns();
        FeatureColumns encoded = spec.encodeQueries(1, (r, c) -> columns.get(names.get(c)));
        return queryTower.output(ServingGraphs.inputs(spec.query(), encoded), ServingGraphs.QUERY_EMBEDDING)
                .get(ServingGraphs.QUERY_EMBEDDING);
    }

    /**
     * The {@code k} best-scoring movies for a user, exactly (brute force over all candidates, ties to the earlier
     * candidate, NaN scores never ranked), skipping {@code exclude} ids. Not thread-safe (the query tower's graph);
     * a server runs the tower on one thread and searches with {@link #candidates()} (see RecommendationServer).
     */
    public List<Recommendation> recommend(String userId, long timestamp, int k, java.util.Set<String> exclude) {
        return candidates().recommend(NdArrays.floats(queryEmbedding(userId, timestamp)), k, exclude, exactIndex());
    }

    // The catalogue and its exact index, made on first use from the loaded embeddings (load is left as it is).
    private Candidates candidates;
    private io.deepretrieval.model.retrieval.TopK exactIndex;

    /** The candidates this model recommends from, rows in the order of candidates.json. */
    public synchronized Candidates candidates() {
        if (candidates == null) {
            candidates = new Candidates(movieIds, titles, NdArrays.floats(candidateEmbeddings),
                    (int) candidateEmbeddings.columns());
        }
        return candidates;
    }

    /** The exact top-k index over {@link #candidates()}. */
    public synchronized io.deepretrieval.model.retrieval.TopK exactIndex() {
        if (exactIndex == null) {
            exactIndex = candidates().exactIndex();
        }
        return exactIndex;
    }

    /** The latest timestamp the features were fitted on: the default time of a query. */
    public long latestTimestamp() {
        return spec.latestTimestamp();
    }

    /** One recommended movie. */
    public record Recommendation(String movieId, String title, float score) {
    }
}
