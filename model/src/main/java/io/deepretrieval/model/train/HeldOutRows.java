package io.deepretrieval.model.train;

import io.deepretrieval.model.features.CandidateCorpus;
import io.deepretrieval.model.features.Interactions;
import io.deepretrieval.model.metrics.FactorizedTopK;
import io.deepretrieval.model.metrics.TopKAccuracy;
import io.deepretrieval.model.towers.TwoTowerModel;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Rows held out of training that a model is scored on by factorized top-K at each evaluation: held in this JVM
 * ({@link #inMemory}) or kept where they live, e.g. on a cluster's executors (spark-job's {@code DistributedHeldOut}).
 */
public interface HeldOutRows {
    /** Rows scored. */
    long size();

    /** The model's top-K accuracy on these rows against every candidate of {@code corpus}. */
    TopKAccuracy score(TwoTowerModel model, CandidateCorpus corpus, FactorizedTopK metric);

    /** Rows in this JVM, scored block by block (memory does not grow with the number of rows). */
    static HeldOutRows inMemory(Interactions rows) {
        return new InMemory(rows);
    }

    /** Held-out rows in this JVM. */
    record InMemory(Interactions rows) implements HeldOutRows {
        private static final int BLOCK = 4096;

        @Override
        public long size() {
            return rows.size();
        }

        @Override
        public TopKAccuracy score(TwoTowerModel model, CandidateCorpus corpus, FactorizedTopK metric) {
            try (INDArray candidates = model.candidateEmbeddings(corpus); FactorizedTopK.Tally tally = metric.tally(candidates)) {
                tally(model, rows, tally);
                return tally.result();
            }
        }

        /** Adds the hits of {@code rows}' query embeddings, block by block, to {@code tally}. */
        public static void tally(TwoTowerModel model, Interactions rows, FactorizedTopK.Tally tally) {
            for (int from = 0; from < rows.size(); from += BLOCK) {
                Interactions block = rows.select(null, from, Math.min(rows.size(), from + BLOCK));
                try (INDArray queries = model.queryEmbeddings(block)) {
                    tally.add(queries, block.candidate());
                }
            }
        }
    }
}
