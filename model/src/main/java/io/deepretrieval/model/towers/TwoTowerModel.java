package io.deepretrieval.model.towers;

import io.deepretrieval.model.features.CandidateCorpus;
import io.deepretrieval.model.features.FeatureSpec;
import io.deepretrieval.model.features.Interactions;
import io.deepretrieval.model.task.RetrievalLoss;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * The two-tower retrieval model: four embedding tables, the {@link QueryTower} and {@link CandidateTower} dense
 * stacks as one SameDiff graph, and the {@link RetrievalLoss} on top.
 */
public final class TwoTowerModel {
    public static final String USER_TABLE = "user_table";
    public static final String BUCKET_TABLE = "timestamp_bucket_table";
    public static final String TITLE_TABLE = "title_table";
    public static final String TOKEN_TABLE = "title_token_table";

    private final ModelConfig config;
    private final SameDiff graph;
    private final EmbeddingTable users;
    private final EmbeddingTable buckets;
    private final EmbeddingTable titles;
    private final EmbeddingTable tokens;
    private final List<DenseParameter> dense;
    private final Map<String, Parameter> parameters;

    /** A freshly initialised model sized for a fitted feature spec. */
    public TwoTowerModel(ModelConfig config, FeatureSpec spec) {
        this(config, spec.userTableSize(), spec.bucketTableSize(), spec.titleTableSize(), spec.tokenTableSize());
    }

    public TwoTowerModel(ModelConfig config, int userRows, int bucketRows, int titleRows, int tokenRows) {
        io.deepretrieval.model.compat.Nd4jCompat.check();
        this.config = config;
        SplittableRandom rng = new SplittableRandom(config.initSeed());
        int d = config.embeddingDim();
        float acc = (float) config.initialAccumulator();
        users = new EmbeddingTable(USER_TABLE, userRows, d, KerasInit.embedding(rng, userRows, d), acc);
        buckets = new EmbeddingTable(BUCKET_TABLE, bucketRows, d, KerasInit.embedding(rng, bucketRows, d), acc);
        titles = new EmbeddingTable(TITLE_TABLE, titleRows, d, KerasInit.embedding(rng, titleRows, d), acc);
        tokens = new EmbeddingTable(TOKEN_TABLE, tokenRows, d, KerasInit.embedding(rng, tokenRows, d), acc);
        graph = SameDiff.create();
        SDVariable q = QueryTower.build(graph, config, rng);
        SDVariable c = CandidateTower.build(graph, config, rng);
        RetrievalLoss.build(graph, q, c, config.outputDim());

        Map<String, Parameter> params = new LinkedHashMap<>();
        for (EmbeddingTable t : tables()) {
            params.put(t.name(), t);
        }
        List<DenseParameter> denseParams = new ArrayList<>();
        for (SDVariable v : graph.variables()) {
            if (v.getVariableType() == VariableType.VARIABLE) {
                DenseParameter p = new DenseParameter(v.name(), v.getArr(), acc);
                denseParams.add(p);
                params.put(p.name(), p);
            }
        }
        dense = List.copyOf(denseParams);
        parameters = Collections.unmodifiableMap(params);
    }

    public ModelConfig config() {
        return config;
    }

    /** The SameDiff graph of both dense towers and the loss. */
    public SameDiff graph() {
        return graph;
    }

    public List<EmbeddingTable> tables() {
        return List.of(users, buckets, titles, tokens);
    }

    /** The dense-stack parameters, which live inside the graph. */
    public List<DenseParameter> denseParameters() {
        return dense;
    }

    /** Every trainable parameter by name, in a fixed order. */
    public Map<String, Parameter> parameters() {
        return parameters;
    }

    /** The looked-up inputs of both towers for a training batch, and the rows their gradients flow back to. */
    public Feeds feeds(Interactions batch, CandidateCorpus corpus) {
        return feeds(batch, batch.candidate(), corpus);
    }

    /**
     * Inputs for some queries scored against some candidate records, of which the first {@code queries.size()}
     * must be the queries' positives, in order ({@link RetrievalLoss}).
     */
    public Feeds feeds(Interactions queries, int[] candidateRecords, CandidateCorpus corpus) {
        CandidateCorpus.Inputs candidates = corpus.inputs(candidateRecords);
        Map<String, INDArray> values = new HashMap<>(queryInputs(queries));
        values.putAll(candidateInputs(candidates));
        return new Feeds(values, queries.userIndex(), queries.timestampBucket(), candidates);
    }

    /**
     * A second training graph (towers and loss) whose dense variables are this model's arrays themselves, so
     * parameter updates reach it without copying; lets another thread run part of a batch at the same time.
     */
    public SameDiff trainingGraphCopy() {
        SameDiff sd = SameDiff.create();
        Function<String, INDArray> shared = graph::getArrForVarName;
        SDVariable q = QueryTower.build(sd, config, shared);
        SDVariable c = CandidateTower.build(sd, config, shared);
        RetrievalLoss.build(sd, q, c, config.outputDim());
        return sd;
    }

    /** The query tower's inputs for some interactions. */
    private Map<String, INDArray> queryInputs(Interactions batch) {
        return Map.of(
                QueryTower.USER_EMBEDDING, users.lookup(batch.userIndex()),
                QueryTower.BUCKET_EMBEDDING, buckets.lookup(batch.timestampBucket()),
                QueryTower.NORMALIZED_TIMESTAMP, Nd4j.create(batch.normalizedTimestamp(), new long[]{batch.size(), 1}, 'c'));
    }

    /** The candidate tower's inputs for some candidate records. */
    private Map<String, INDArray> candidateInputs(CandidateCorpus.Inputs c) {
        return Map.of(
                CandidateTower.TITLE_EMBEDDING, titles.lookup(c.titleIndex()),
                CandidateTower.TOKEN_MEAN, tokens.weightedSum(c.tokenIds(), c.tokenWeights(), c.width()));
    }

    /** Sends each embedding input's gradient ([n, dim] arrays by placeholder name) back to its table. */
    public void addEmbeddingGradients(Feeds feeds, Map<String, float[]> gradients) {
        users.addGradient(feeds.userRows, gradients.get(QueryTower.USER_EMBEDDING));
        buckets.addGradient(feeds.bucketRows, gradients.get(QueryTower.BUCKET_EMBEDDING));
        CandidateCorpus.Inputs c = feeds.candidates;
        titles.addGradient(c.titleIndex(), gradients.get(CandidateTower.TITLE_EMBEDDING));
        tokens.addWeightedSumGradient(c.tokenIds(), c.tokenWeights(), c.width(), gradients.get(CandidateTower.TOKEN_MEAN));
    }

    /** Names of the graph inputs that carry embedding rows (their gradients go back to the tables). */
    public static List<String> embeddingInputs() {
        return List.of(QueryTower.USER_EMBEDDING, QueryTower.BUCKET_EMBEDDING,
                CandidateTower.TITLE_EMBEDDING, CandidateTower.TOKEN_MEAN);
    }

    /** Query embeddings [n, outputDim] for some interactions, in one graph pass (callers block large sets). */
    public INDArray queryEmbeddings(Interactions queries) {
        return graph.output(queryInputs(queries), QueryTower.OUTPUT).get(QueryTower.OUTPUT).dup();
    }

    /** Embeddings [size, outputDim] of every record of the corpus. */
    public INDArray candidateEmbeddings(CandidateCorpus corpus) {
        Map<String, INDArray> ph = candidateInputs(corpus.inputs(corpus.allRecords()));
        return graph.output(ph, CandidateTower.OUTPUT).get(CandidateTower.OUTPUT).dup();
    }

    /** A batch's graph inputs and the table rows behind them. */
    public record Feeds(Map<String, INDArray> values, int[] userRows, int[] bucketRows, CandidateCorpus.Inputs candidates) {
    }
}
