package io.deepretrieval.spark.train;

import io.deepretrieval.model.io.BackendInfo;
import io.deepretrieval.model.features.CandidateCorpus;
import io.deepretrieval.model.features.FeatureSpec;
import io.deepretrieval.model.towers.ModelConfig;
import io.deepretrieval.model.towers.TwoTowerModel;
import io.deepretrieval.model.train.EpochShuffle;
import io.deepretrieval.model.train.TrainingStep;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The model replicas living in an executor JVM, one per training partition, built on first use and reused for
 * every later round of the same fit (building the graph and its gradient function takes seconds).
 */
final class ReplicaCache {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaCache.class);
    private static final Map<String, Replica> REPLICAS = new ConcurrentHashMap<>();
    private static volatile String currentFit;
    private static final Map<String, TwoTowerModel> SCORERS = new ConcurrentHashMap<>();
    private static volatile String currentScoring;

    private ReplicaCache() {
    }

    /** A model and its training step for one partition, with that partition's shuffle order of the current epoch. */
    static final class Replica {
        private final TwoTowerModel model;
        private final TrainingStep step;
        private int[] order;
        private int orderEpoch = -1;

        Replica(TwoTowerModel model, TrainingStep step) {
            this.model = model;
            this.step = step;
        }

        TwoTowerModel model() {
            return model;
        }

        TrainingStep step() {
            return step;
        }

        /**
         * {@link EpochShuffle#order}, computed once per epoch instead of once per round. A replica serves one partition
         * of one fit, so its size and seed never change: the epoch is the only key.
         */
        int[] order(int size, long seed, int epoch) {
            if (orderEpoch != epoch) {
                order = EpochShuffle.order(size, seed, epoch);
                orderEpoch = epoch;
            }
            return order;
        }
    }

    static Replica get(String fitId, int partition, ModelConfig config, FeatureSpec spec, CandidateCorpus corpus,
                       int stepThreads) {
        if (!fitId.equals(currentFit)) {
            synchronized (ReplicaCache.class) {
                if (!fitId.equals(currentFit)) {
                    // Replicas of an earlier fit (another depth) are garbage now; their step threads end here.
                    REPLICAS.values().forEach(r -> r.step().close());
                    REPLICAS.clear();
                    currentFit = fitId;
                }
            }
        }
        return REPLICAS.computeIfAbsent(fitId + "/" + partition, k -> {
            LOG.info("Building model replica for partition {} on {}: ND4J {}, {} step thread(s)", partition, hostName(),
                    BackendInfo.describe(), stepThreads);
            TwoTowerModel model = new TwoTowerModel(config, spec);
            return new Replica(model, new TrainingStep(model, corpus, stepThreads));
        });
    }

    /**
     * A model for scoring one partition of held-out rows ({@link DistributedHeldOut}), one per model shape (the
     * architecture and the features' kinds and table sizes) and partition, whatever set it scores (the validation
     * rows and the stopping slice share them); those of another shape (the sweep's previous depth) are dropped.
     */
    static TwoTowerModel scorer(int partition, ModelConfig config, FeatureSpec spec) {
        StringBuilder shape = new StringBuilder(config.toString());
        java.util.stream.Stream.concat(spec.query().stream(), spec.candidate().stream()).forEach(f -> shape.append('/')
                .append(f.name()).append(':').append(f.kind()).append(':').append(f.tableRows()).append(':').append(f.width()));
        String scoring = shape.toString();
        if (!scoring.equals(currentScoring)) {
            synchronized (ReplicaCache.class) {
                if (!scoring.equals(currentScoring)) {
                    SCORERS.clear();
                    currentScoring = scoring;
                }
            }
        }
        return SCORERS.computeIfAbsent(scoring + "/" + partition, k -> new TwoTowerModel(config, spec));
    }

    private static String hostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            return "unknown host";
        }
    }
}
