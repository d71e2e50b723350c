package io.deepretrieval.spark.ml;

import io.deepretrieval.model.features.CandidateCorpus;
import io.deepretrieval.model.features.FeatureSpec;
import io.deepretrieval.model.features.FeatureColumns;
import io.deepretrieval.model.io.NdArrays;
import io.deepretrieval.model.retrieval.BruteForceTopK;
import io.deepretrieval.model.towers.ModelConfig;
import io.deepretrieval.model.towers.TwoTowerModel;
import io.deepretrieval.model.train.ModelState;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.Serializable;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A fitted model's towers, rebuilt once per JVM (driver or executor) from its broadcast state and cached by the
 * model's uid. Graphs run on one long-lived thread per JVM: SameDiff keeps a session per thread id for good, and
 * Spark's task threads come and go.
 */
final class ServingReplicas {
    private static final Map<String, Replica> CACHE = new ConcurrentHashMap<>();
    private static final ExecutorService GRAPH_THREAD = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "two-tower-serving");
        t.setDaemon(true);
        return t;
    });

    private ServingReplicas() {
    }

    /** What an executor needs to answer queries: plain data, broadcast once per model. */
    record State(String uid, ModelConfig config, FeatureSpec spec, CandidateCorpus corpus, ModelState parameters,
                 float[] itemEmbeddings) implements Serializable {
        int dim() {
            return config.outputDim();
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
                recordOfItem.put(state.corpus().movieId(r), r);
            }
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

    static Replica get(State state) {
        return CACHE.computeIfAbsent(state.uid(), k -> new Replica(state));
    }

    private static <T> T onGraphThread(java.util.concurrent.Callable<T> work) {
        return io.deepretrieval.model.io.Futures.join(GRAPH_THREAD.submit(work));
    }
}
