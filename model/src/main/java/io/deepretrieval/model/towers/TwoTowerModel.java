package io.deepretrieval.model.towers;

import io.deepretrieval.model.compat.Nd4jCompat;
import io.deepretrieval.model.compat.SameDiffSessions;
import io.deepretrieval.model.features.CandidateCorpus;
import io.deepretrieval.model.features.FeatureColumns;
import io.deepretrieval.model.features.FeatureSpec;
import io.deepretrieval.model.features.FittedFeature;
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
 * The two-tower retrieval model: one embedding table per embedded feature of the {@link FeatureSpec} (four in the
 * tutorial: user, timestamp bucket, title, title token), the {@link QueryTower} and {@link CandidateTower} dense
 * stacks as one SameDiff graph, and the {@link RetrievalLoss} on top.
 */
public final class TwoTowerModel {
    private final ModelConfig config;
    private final FeatureSpec spec;
    private final SameDiff graph;
    /** Per query / candidate feature, its table (null for a feature without one). */
    private final EmbeddingTable[] queryTables;
    private final EmbeddingTable[] candidateTables;
    private final List<EmbeddingTable> tables;
    private final List<String> embeddingInputs;
    private final List<DenseParameter> dense;
    private final Map<String, Parameter> parameters;

    /** A freshly initialised model sized for a fitted feature spec. */
    public TwoTowerModel(ModelConfig config, FeatureSpec spec) {
        Nd4jCompat.check();
        this.config = config;
        this.spec = spec;
        SplittableRandom rng = new SplittableRandom(config.initSeed());
        float acc = (float) config.initialAccumulator();
        // Tables first, in feature order, then the dense layers: the tutorial's initialisation order.
        List<EmbeddingTable> all = new ArrayList<>();
        queryTables = tables(spec.query(), config.embeddingDim(), rng, acc, all);
        candidateTables = tables(spec.candidate(), config.embeddingDim(), rng, acc, all);
        shareTables(spec, queryTables, candidateTables);
        tables = List.copyOf(all);
        graph = SameDiff.create();
        SDVariable q = QueryTower.build(graph, config, spec.query(), rng);
        SDVariable c = CandidateTower.build(graph, config, spec.candidate(), rng);
        RetrievalLoss.build(graph, q, c, config.outputDim(), config.objective());
        List<String> inputs = new ArrayList<>(TowerInputs.embeddingInputs(spec.query()));
        inputs.addAll(TowerInputs.embeddingInputs(spec.candidate()));
        embeddingInputs = List.copyOf(inputs);

        Map<String, Parameter> params = new LinkedHashMap<>();
        for (EmbeddingTable t : tables) {
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

    private static EmbeddingTable[] tables(List<FittedFeature> features, int d, SplittableRandom rng, float acc,
                                           List<EmbeddingTable> all) {
        EmbeddingTable[] out = new EmbeddingTable[features.size()];
        for (int f = 0; f < out.length; f++) {
            FittedFeature feature = features.get(f);
            if (feature.embedded() && feature.shareWith() == null) {
                int rows = feature.tableRows();
                out[f] = new EmbeddingTable(feature.tableName(), rows, d, KerasInit.embedding(rng, rows, d), acc);
                all.add(out[f]);
            }
        }
        return out;
    }

    /**
     * Points each shared history at its candidate feature's table: one parameter, which both towers' lookups read
     * and both towers' gradients add into before its one update per step.
     */
    private static void shareTables(FeatureSpec spec, EmbeddingTable[] queryTables, EmbeddingTable[] candidateTables) {
        for (int f = 0; f < queryTables.length; f++) {
            String target = spec.query().get(f).shareWith();
            if (target == null) {
                continue;
            }
            for (int c = 0; c < candidateTables.length; c++) {
                if (spec.candidate().get(c).name().equals(target)) {
                    queryTables[f] = candidateTables[c];
                }
            }
        }
    }

    public ModelConfig config() {
        return config;
    }

    /** The fitted features the model is sized for. */
    public FeatureSpec spec() {
        return spec;
    }

    /** The SameDiff graph of both dense towers and the loss. */
    public SameDiff graph() {
        return graph;
    }

    public List<EmbeddingTable> tables() {
        return tables;
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
        FeatureColumns candidates = corpus.inputs(candidateRecords);
        Map<String, INDArray> values = new HashMap<>();
        inputs(spec.query(), queryTables, queries.query(), values);
        inputs(spec.candidate(), candidateTables, candidates, values);
        return new Feeds(values, queries.query(), candidates);
    }

    /**
     * A second training graph (towers and loss) whose dense variables are this model's arrays themselves, so
     * parameter updates reach it without copying; lets another thread run part of a batch at the same time.
     */
    public SameDiff trainingGraphCopy() {
        SameDiff sd = SameDiff.create();
        Function<String, INDArray> shared = graph::getArrForVarName;
        SDVariable q = QueryTower.build(sd, config, spec.query(), shared);
        SDVariable c = CandidateTower.build(sd, config, spec.candidate(), shared);
        RetrievalLoss.build(sd, q, c, config.outputDim(), config.objective());
        return sd;
    }

    /** One tower's graph inputs: looked-up (or pooled) embeddings and normalised values, by placeholder name. */
    private static void inputs(List<FittedFeature> features, EmbeddingTable[] tables, FeatureColumns cols,
                               Map<String, INDArray> into) {
        for (int f = 0; f < features.size(); f++) {
            FittedFeature feature = features.get(f);
            if (feature.embedded()) {
                into.put(TowerInputs.embeddingInput(feature), TowerInputs.pooled(feature)
                        ? tables[f].weightedSum(cols.ids(f), cols.weights(f), cols.width(f))
                        : tables[f].lookup(cols.ids(f)));
            }
            if (feature.valued()) {
                into.put(TowerInputs.valueInput(feature), Nd4j.create(cols.values(f), new long[]{cols.rows(), 1}, 'c'));
            }
        }
    }

    /** Sends each embedding input's gradient ([n, dim] arrays by placeholder name) back to its table. */
    public void addEmbeddingGradients(Feeds feeds, Map<String, float[]> gradients) {
        addGradients(spec.query(), queryTables, feeds.query(), gradients);
        addGradients(spec.candidate(), candidateTables, feeds.candidates(), gradients);
    }

    private static void addGradients(List<FittedFeature> features, EmbeddingTable[] tables, FeatureColumns cols,
                                     Map<String, float[]> gradients) {
        for (int f = 0; f < features.size(); f++) {
            FittedFeature feature = features.get(f);
            if (!feature.embedded()) {
                continue;
            }
            float[] g = gradients.get(TowerInputs.embeddingInput(feature));
            if (TowerInputs.pooled(feature)) {
                tables[f].addWeightedSumGradient(cols.ids(f), cols.weights(f), cols.width(f), g);
            } else {
                tables[f].addGradient(cols.ids(f), g);
            }
        }
    }

    /** Names of the graph inputs that carry embedding rows (their gradients go back to the tables). */
    public List<String> embeddingInputs() {
        return embeddingInputs;
    }

    /** Query embeddings [n, outputDim] for some encoded queries, in one graph pass (callers block large sets). */
    public INDArray queryEmbeddings(FeatureColumns queries) {
        Map<String, INDArray> ph = new HashMap<>();
        inputs(spec.query(), queryTables, queries, ph);
        return outputCopy(ph, QueryTower.OUTPUT);
    }

    /** Query embeddings [n, outputDim] for some interactions. */
    public INDArray queryEmbeddings(Interactions queries) {
        return queryEmbeddings(queries.query());
    }

    /** Embeddings [size, outputDim] of every record of the corpus. */
    public INDArray candidateEmbeddings(CandidateCorpus corpus) {
        Map<String, INDArray> ph = new HashMap<>();
        inputs(spec.candidate(), candidateTables, corpus.features(), ph);
        return outputCopy(ph, CandidateTower.OUTPUT);
    }

    /**
     * A copy of one graph output; the inputs and the session's outputs are freed at once, also on failure, rather
     * than when the GC finds them (evaluations run this every few epochs).
     */
    private INDArray outputCopy(Map<String, INDArray> inputs, String output) {
        try {
            Map<String, INDArray> out = graph.output(inputs, output);
            try {
                return out.get(output).dup();
            } finally {
                SameDiffSessions.close(out.values());
            }
        } finally {
            SameDiffSessions.close(inputs.values());
        }
    }

    /** A batch's graph inputs and the encoded rows behind them. */
    public record Feeds(Map<String, INDArray> values, FeatureColumns query, FeatureColumns candidates) {
    }
}
