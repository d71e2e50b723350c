package io.deepretrieval.spark.train;

import io.deepretrieval.model.features.CandidateCorpus;
import io.deepretrieval.model.features.FeatureSpec;
import io.deepretrieval.model.features.Interactions;
import io.deepretrieval.model.io.NativeThreads;
import io.deepretrieval.model.io.NdArrays;
import io.deepretrieval.model.metrics.FactorizedTopK;
import io.deepretrieval.model.metrics.TopKAccuracy;
import io.deepretrieval.model.towers.ModelConfig;
import io.deepretrieval.model.towers.TwoTowerModel;
import io.deepretrieval.model.train.HeldOutRows;
import io.deepretrieval.model.train.ModelState;
import io.deepretrieval.spark.preprocess.EncodedRatings;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;

/**
 * Held-out rows that stay on the executors: encoded once into one model-input block per partition and cached
 * there; each evaluation broadcasts the parameters and the candidate embeddings (computed once, in the driver),
 * every partition scores its own rows with a cached scoring replica of the model, and only the per-K hit counts come
 * back. The driver holds the model and the candidate matrix, never the rows.
 */
public final class DistributedHeldOut implements HeldOutRows, AutoCloseable {
    private final JavaRDD<Interactions> partitions;
    private final Broadcast<FeatureSpec> spec;
    private final long size;
    private final int nativeThreads;

    /** Encodes and caches {@code encoded} (rows of the trainers' input columns) as {@code partitions} blocks. */
    public DistributedHeldOut(Dataset<Row> encoded, FeatureSpec spec, int partitions, int nativeThreads) {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(encoded.sparkSession().sparkContext());
        this.partitions = EncodedRatings.interactions(encoded.repartition(partitions), spec);
        this.partitions.persist(StorageLevel.MEMORY_ONLY());
        this.size = this.partitions.map(Interactions::size).reduce(Integer::sum);
        this.spec = sc.broadcast(spec);
        this.nativeThreads = nativeThreads;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public TopKAccuracy score(TwoTowerModel model, CandidateCorpus corpus, FactorizedTopK metric) {
        if (size == 0) {
            return metric.accuracy(new long[metric.ks().length], 0);
        }
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(partitions.context());
        float[] candidates;
        try (INDArray embeddings = model.candidateEmbeddings(corpus)) {
            candidates = NdArrays.floats(embeddings);
        }
        Broadcast<float[]> candidatesB = sc.broadcast(candidates);
        Broadcast<ModelState> stateB = sc.broadcast(ModelState.of(model));
        try {
            ScoreTask task = new ScoreTask(model.config(), spec, stateB, candidatesB, corpus.size(), metric.ks(),
                    nativeThreads);
            long[] counts = partitions.mapPartitionsWithIndex(task, true)
                    .treeReduce(DistributedHeldOut::sum);
            long[] hits = java.util.Arrays.copyOf(counts, counts.length - 1);
            return metric.accuracy(hits, counts[counts.length - 1]);
        } finally {
            candidatesB.destroy();
            stateB.destroy();
        }
    }

    private static long[] sum(long[] a, long[] b) {
        long[] out = a.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] += b[i];
        }
        return out;
    }

    @Override
    public void close() {
        partitions.unpersist(false);
        spec.destroy();
    }

    /** One partition's hits per K and its query count (last), scored by the executor's replica of the model. */
    private record ScoreTask(ModelConfig config, Broadcast<FeatureSpec> spec, Broadcast<ModelState> state,
                             Broadcast<float[]> candidates, int candidateCount, int[] ks, int nativeThreads)
            implements org.apache.spark.api.java.function.Function2<Integer, java.util.Iterator<Interactions>,
            java.util.Iterator<long[]>> {
        @Override
        public java.util.Iterator<long[]> call(Integer partition, java.util.Iterator<Interactions> rows) {
            Interactions data = rows.next();
            NativeThreads.apply(nativeThreads);
            TwoTowerModel replica = ReplicaCache.scorer(partition, config, spec.value());
            FactorizedTopK metric = new FactorizedTopK(ks);
            long[] out;
            synchronized (replica) {
                state.value().applyTo(replica);
                float[] c = candidates.value();
                try (INDArray matrix = Nd4j.create(c, new long[]{candidateCount, c.length / candidateCount}, 'c');
                     FactorizedTopK.Tally tally = metric.tally(matrix)) {
                    HeldOutRows.InMemory.tally(replica, data, tally);
                    out = java.util.Arrays.copyOf(tally.hits(), ks.length + 1);
                    out[ks.length] = tally.queries();
                }
            }
            return List.of(out).iterator();
        }
    }
}
