package io.deepretrieval.model.serving;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.deepretrieval.model.features.CandidateCorpus;
import io.deepretrieval.model.features.FeatureColumns;
import io.deepretrieval.model.features.FeatureSpec;
import io.deepretrieval.model.features.FittedFeature;
import io.deepretrieval.model.io.NdArrays;
import io.deepretrieval.model.retrieval.BruteForceTopK;
import io.deepretrieval.model.towers.ModelConfig;
import io.deepretrieval.model.towers.TwoTowerModel;
import io.deepretrieval.model.train.ModelState;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntConsumer;

/**
 * A fitted two-tower model that answers queries without Spark: the towers rebuilt from the fitted parameters, the
 * fitted features, every candidate item with its label and precomputed embedding, and a description to report.
 * Queries are embedded by {@link TwoTowerModel#queryEmbeddings}, the forward pass that training evaluates and the
 * Spark ML model's executors run, so serving cannot drift from either.
 *
 * <p>This class reads and writes no files: the one saved format is the Spark ML model's (spark-job's
 * {@code TwoTowerRetrievalModel}, whose {@code serving()} builds one of these).
 *
 * <p>Thread-safe. Every graph run happens on this model's own long-lived thread: a SameDiff graph must not run
 * concurrently, and it keeps a session per calling thread for good, so callers' short-lived threads (HTTP pool,
 * Spark tasks) would each leave one behind. Queries that wait for that thread together share one forward pass
 * ({@link #setBatching}). {@link #close()} stops that thread and frees the exact index.
 */
public final class ServingModel implements AutoCloseable {
    private final ModelConfig config;
    private final FeatureSpec spec;
    private final JsonNode info;
    private final Candidates candidates;
    private final TwoTowerModel towers;
    private final Map<String, List<String>> userHistories;
    private final QueryBatcher batcher;
    private BruteForceTopK exactIndex;

    private ServingModel(ModelConfig config, FeatureSpec spec, ModelState parameters, Candidates candidates,
                         JsonNode info, Map<String, List<String>> userHistories) {
        this.config = config;
        this.userHistories = Map.copyOf(userHistories);
        this.spec = spec;
        this.info = info == null ? JsonNodeFactory.instance.objectNode() : info.deepCopy();
        this.candidates = candidates;
        this.towers = new TwoTowerModel(config, spec);
        parameters.servingOnly().applyTo(towers, "the serving parameters");
        this.batcher = new QueryBatcher(towers);
    }

    /**
     * A model to serve from its parts: the settings and fitted features that build the towers, their parameters
     * (accumulators, if any, are not needed and not kept), the candidates' ids, labels and row-major
     * [ids.size(), outputDim] embeddings (not copied: do not change them), and the description {@link #info()}
     * reports (null: none).
     *
     * @throws IllegalArgumentException when the parameters are not those of these settings and features, or the
     *                                  candidates' lengths disagree
     */
    public static ServingModel of(ModelConfig config, FeatureSpec spec, ModelState parameters, List<String> itemIds,
                                  List<String> labels, float[] itemEmbeddings, JsonNode info) {
        return of(config, spec, parameters, itemIds, labels, itemEmbeddings, info, Map.of());
    }

    /**
     * As above, with each known user's latest items (oldest first): the history a query without one reads when
     * the query tower has a history feature built from the interactions.
     */
    public static ServingModel of(ModelConfig config, FeatureSpec spec, ModelState parameters, List<String> itemIds,
                                  List<String> labels, float[] itemEmbeddings, JsonNode info,
                                  Map<String, List<String>> userHistories) {
        Candidates candidates = new Candidates(itemIds, labels, itemEmbeddings, config.outputDim());
        return new ServingModel(config, spec, parameters, candidates, info, userHistories);
    }

    /**
     * A model to serve from a trained one (in memory, e.g. in a test): its parameters, and every record of
     * {@code corpus} embedded by its candidate tower now, on the calling thread.
     */
    public static ServingModel of(TwoTowerModel trained, CandidateCorpus corpus, JsonNode info) {
        float[] embeddings;
        try (INDArray e = trained.candidateEmbeddings(corpus)) {
            embeddings = NdArrays.floats(e);
        }
        List<String> ids = new ArrayList<>(corpus.size());
        List<String> labels = new ArrayList<>(corpus.size());
        for (int r = 0; r < corpus.size(); r++) {
            ids.add(corpus.itemId(r));
            labels.add(corpus.label(r));
        }
        return of(trained.config(), trained.spec(), ModelState.of(trained), ids, labels, embeddings, info);
    }

    public ModelConfig config() {
        return config;
    }

    public FeatureSpec spec() {
        return spec;
    }

    /** What the model reports about itself (e.g. the server's {@code /metadata}); a copy. */
    public JsonNode info() {
        return info.deepCopy();
    }

    /** The candidates this model recommends from, with their embeddings, in the saved order. */
    public Candidates candidates() {
        return candidates;
    }

    /** The exact top-k index over {@link #candidates()}, made on first use and freed by {@link #close()}. */
    public synchronized BruteForceTopK exactIndex() {
        if (exactIndex == null) {
            exactIndex = candidates.exactIndex();
        }
        return exactIndex;
    }

    /** True when the user id is in the vocabulary (else the out-of-vocabulary embedding answers). */
    public boolean knowsUser(String userId) {
        FittedFeature user = spec.userFeature();
        return user != null && user.index(userId) != 0;
    }

    /** Whether the query tower reads a history of the user's items (then queries may pass one). */
    public boolean readsHistory() {
        return !spec.derivedHistories().isEmpty();
    }

    /** The latest items kept for a user the model was trained on (oldest first), or an empty list. */
    public List<String> keptHistory(String userId) {
        return userHistories.getOrDefault(userId, List.of());
    }

    /** The latest timestamp the features were fitted on: the default time of a query (0 without a time feature). */
    public long latestTimestamp() {
        return spec.latestTimestamp();
    }

    /**
     * The query embedding of a user at a time; other query features (side features of the user) are taken as
     * unknown (out-of-vocabulary, or the fitted mean). {@link #queryEmbedding(Map)} takes them all.
     */
    public float[] queryEmbedding(String userId, long timestamp) {
        return queryEmbedding(userId, timestamp, null, Map.of());
    }

    /**
     * The query embedding of a user at a time with a history (item ids, oldest first; null: the user's kept
     * history, if any) and other query-feature values by column name ({@code features}; a missing one: unknown).
     * A user the model never saw is embedded from the history and features alone (the user id's unknown row).
     */
    public float[] queryEmbedding(String userId, long timestamp, List<String> history, Map<String, Object> features) {
        Map<String, Object> values = new HashMap<>(features);
        values.put(spec.userColumn(), userId);
        FittedFeature time = spec.timestampFeature();
        if (time != null) {
            values.put(time.column(), timestamp);
        }
        List<String> items = history != null ? history : keptHistory(userId);
        for (FittedFeature h : spec.derivedHistories()) {
            values.put(h.name(), items);
        }
        return queryEmbedding(values);
    }

    /** The query embedding of one row of query-feature values by column name (a missing column: unknown). */
    public float[] queryEmbedding(Map<String, Object> columns) {
        List<String> names = spec.queryColumns();
        return queryEmbeddings(1, (r, c) -> columns.get(names.get(c)));
    }

    /**
     * Row-major [n, outputDim] query embeddings of {@code n} queries, given one raw value per query column
     * ({@code byColumn.get(row, column)}, columns in {@link FeatureSpec#queryColumns()} order). The values are
     * encoded on the calling thread, the graph runs on this model's thread.
     */
    public float[] queryEmbeddings(int n, FeatureColumns.Values byColumn) {
        return batcher.embed(spec.encodeQueries(n, byColumn));
    }

    /**
     * How concurrent queries share forward passes: a pass takes every waiting query up to {@code maxRows} rows,
     * waiting up to {@code waitMicros} after the first for more (0: none, the default with 64 rows); a query not
     * embedded within {@code timeoutMillis} throws {@link QueryTimeoutException} (0: no limit, the default).
     */
    public void setBatching(int maxRows, long waitMicros, long timeoutMillis) {
        batcher.settings(new QueryBatcher.Settings(maxRows, waitMicros, timeoutMillis));
    }

    /** Receives the row count of every forward pass of the query tower (e.g. for a batch-size metric). */
    public void onBatch(IntConsumer rowsPerPass) {
        batcher.batchSizes(rowsPerPass);
    }

    /**
     * The {@code k} best-scoring items for a user, exactly (brute force over all candidates, ties to the earlier
     * candidate, NaN scores never ranked), skipping {@code exclude} ids.
     */
    public List<Recommendation> recommend(String userId, long timestamp, int k, Set<String> exclude) {
        return recommend(userId, timestamp, null, k, exclude);
    }

    /** As {@link #recommend(String, long, int, Set)}, from a history (item ids, oldest first; null: the kept one). */
    public List<Recommendation> recommend(String userId, long timestamp, List<String> history, int k, Set<String> exclude) {
        return candidates.recommend(queryEmbedding(userId, timestamp, history, Map.of()), k, exclude, exactIndex());
    }

    /** Stops the graph thread (a later query fails) and frees the exact index. */
    @Override
    public synchronized void close() {
        batcher.close();
        if (exactIndex != null) {
            exactIndex.close();
            exactIndex = null;
        }
    }
}
