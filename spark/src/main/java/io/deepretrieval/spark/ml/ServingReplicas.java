package io.deepretrieval.spark.ml;

import io.deepretrieval.model.features.CandidateCorpus;
import io.deepretrieval.model.features.FeatureSpec;
import io.deepretrieval.model.features.FeatureColumns;
import io.deepretrieval.model.features.FittedFeature;
import io.deepretrieval.model.io.Futures;
import io.deepretrieval.model.io.NdArrays;
import io.deepretrieval.model.retrieval.BruteForceTopK;
import io.deepretrieval.model.towers.ModelConfig;
import io.deepretrieval.model.towers.TwoTowerModel;
import io.deepretrieval.model.train.ModelState;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.Serializable;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A fitted model's towers, rebuilt once per JVM (driver or executor) from its broadcast state. The replica lives in
 * the broadcast value itself, not in a JVM-wide cache: every model instance broadcasts its own state, so a refit,
 * a cross-validation fold or a reloaded model never answers with another model's towers, and a replica goes when
 * Spark drops its broadcast. Graphs run on one long-lived thread per JVM: SameDiff keeps a session per thread id
 * for good, and Spark's task threads come and go.
 */
final class ServingReplicas {
    private static final ExecutorService GRAPH_THREAD = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "two-tower-serving");
        t.setDaemon(true);
        return t;
    });

    private ServingReplicas() {
    }

    /** What an executor needs to answer queries: plain data, broadcast once per model. */
    static final class State implements Serializable {
        private static final long serialVersionUID = 1L;
        private final ModelConfig config;
        private final FeatureSpec spec;
        private final CandidateCorpus corpus;
        private final ModelState parameters;
        private final float[] itemEmbeddings;
        private transient volatile Replica replica;

        State(ModelConfig config, FeatureSpec spec, CandidateCorpus corpus, ModelState parameters, float[] itemEmbeddings) {
            this.config = config;
            this.spec = spec;
            this.corpus = corpus;
            this.parameters = parameters;
            this.itemEmbeddings = itemEmbeddings;
        }

        ModelConfig config() { return config; }
        FeatureSpec spec() { return spec; }
        CandidateCorpus corpus() { return corpus; }
        ModelState parameters() { return parameters; }
        float[] itemEmbeddings() { return itemEmbeddings; }

        int dim() {
            return config.outputDim();
        }

        /** This state's towers, built on first use in this JVM and kept as long as this (broadcast) value. */
        Replica replica() {
            Replica r = replica;
            if (r == null) {
                synchronized (this) {
                    r = replica;
                    if (r == null) {
                        r = new Replica(this);
                        replica = r;
                    }
                }
            }
            return r;
        }
    }

    /** The towers and the exact top-K index of one model. */
    static final class Replica {
        private final State state;
        private final TwoTowerModel model;
        private final BruteForceTopK index;
        private final Map<String, Integer> recordOfItem = new HashMap<>();

        private Replica(State state) {
            this.state = state;
            this.model = new TwoTowerModel(state.config(), state.spec());
            state.parameters().applyTo(model);
            this.index = new BruteForceTopK(state.itemEmbeddings(), state.corpus().size(), state.dim());
            for (int r = 0; r < state.corpus().size(); r++) {
                recordOfItem.put(state.corpus().itemId(r), r);
            }
        }

        /**
         * True when the model knows this user id (it is in the user vocabulary), or when the query tower reads no
         * user id, so that no user is unknown to it.
         */
        boolean knowsUser(Object user) {
            FittedFeature feature = state.spec().userFeature();
            return feature == null || feature.index(user) != 0;
        }

        /** The candidate record of an item id, or null for an item the model does not know. */
        Integer recordOf(String item) {
            return recordOfItem.get(item);
        }

        State state() {
            return state;
        }

        BruteForceTopK index() {
            return index;
        }

        /**
         * Row-major [n, dim] query embeddings of {@code n} queries, given one raw value per query column of the
         * spec ({@code byColumn.get(row, column)}, columns in {@link FeatureSpec#queryColumns()} order).
         */
        float[] queryEmbeddings(int n, FeatureColumns.Values byColumn) {
            FeatureColumns q = state.spec().encodeQueries(n, byColumn);
            return onGraphThread(() -> {
                INDArray e = model.queryEmbeddings(q);
                try {
                    return NdArrays.floats(e);
                } finally {
                    e.close();
                }
            });
        }
    }

    private static <T> T onGraphThread(Callable<T> work) {
        return Futures.join(GRAPH_THREAD.submit(work));
    }
}
