package io.deepretrieval.spark.train;

import io.deepretrieval.model.towers.EmbeddingTable;
import io.deepretrieval.model.io.NativeThreads;
import io.deepretrieval.model.features.CandidateCorpus;
import io.deepretrieval.model.features.FeatureSpec;
import io.deepretrieval.model.features.Interactions;
import io.deepretrieval.spark.preprocess.EncodedRatings;
import io.deepretrieval.model.metrics.FactorizedTopK;
import io.deepretrieval.model.towers.ModelConfig;
import io.deepretrieval.model.towers.TwoTowerModel;
import io.deepretrieval.model.train.CandidateShares;
import io.deepretrieval.model.train.CurvePoint;
import io.deepretrieval.model.train.HeldOutRows;
import io.deepretrieval.model.train.ModelState;
import io.deepretrieval.model.train.NumericFault;
import io.deepretrieval.model.train.TrainingListener;
import io.deepretrieval.model.train.TrainingOptions;
import org.apache.spark.HashPartitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;

/**
 * Trains the two-tower model across Spark executors by parameter averaging, built on Spark's own primitives
 * (DL4J's Spark trainers cannot train SameDiff graphs). Each round the driver broadcasts the parameters and the
 * Adagrad accumulators; every partition's replica trains {@code averagingFrequency} local minibatches of its own
 * rows and returns its dense layers and the embedding rows it updated; the driver averages them (tree aggregation,
 * sparse-aware as {@link WorkerResult} describes: a row is averaged over the replicas that updated it, untouched rows
 * stay) and starts the next round. Averaging the accumulators too keeps the optimizer's per-coordinate step sizes;
 * averaging only the weights would reset them every round.
 *
 * <p>Each replica's softmax sees only its own minibatch, so {@code batchSizePerWorker} is the number of in-batch
 * negatives; {@code workers × batchSizePerWorker} examples are consumed per step across the cluster.
 */
public final class ParameterAveraging {
    private static final Logger LOG = LoggerFactory.getLogger(ParameterAveraging.class);
    /** Partition p shuffles its rows with seed {@code shuffleSeed + p * PARTITION_SEED_STRIDE} (package-private for tests). */
    static final long PARTITION_SEED_STRIDE = 1_000_003L;

    private final DistributedOptions options;
    private final TrainingOptions training;
    private final FactorizedTopK metric;
    private final TrainingListener listener;
    private final RoundTimer timer = new RoundTimer();

    public ParameterAveraging(DistributedOptions options, TrainingOptions training, FactorizedTopK metric,
                              TrainingListener listener) {
        this.options = options;
        this.training = training;
        this.metric = metric;
        this.listener = listener;
    }

    /** Wall time split of the last fit: inside replicas' training steps versus everything else. */
    public RoundTimer timer() {
        return timer;
    }

    /**
     * Trains {@code model} (its current parameters are the starting point and receive the result) on the encoded
     * training rows, evaluating in the driver against {@code test}.
     */
    public List<CurvePoint> fit(TwoTowerModel model, FeatureSpec spec, CandidateCorpus corpus, Dataset<Row> trainRows,
                                Interactions test) {
        return fit(model, spec, corpus, trainRows, HeldOutRows.inMemory(test), 0, List.of());
    }

    /**
     * Continues after {@code epochsDone} epochs whose curve is {@code curveSoFar} (the model holds that state),
     * scoring {@code test} wherever it lives ({@link DistributedHeldOut}: on the executors).
     */
    public List<CurvePoint> fit(TwoTowerModel model, FeatureSpec spec, CandidateCorpus corpus, Dataset<Row> trainRows,
                                HeldOutRows test, int epochsDone, List<CurvePoint> curveSoFar) {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(trainRows.sparkSession().sparkContext());
        JavaRDD<Interactions> partitions = pack(trainRows, spec);
        List<Integer> sizes = partitions.map(Interactions::size).collect();
        long total = sizes.stream().mapToLong(Integer::longValue).sum();
        int largest = Collections.max(sizes);
        long perRound = (long) options.batchSizePerWorker() * options.averagingFrequency(); // int could wrap to <= 0 rounds
        int rounds = (int) ((largest + perRound - 1) / perRound);
        LOG.info("Parameter averaging: {} workers, partition sizes {}, batch {} per worker, averaging every {} steps"
                + " ({} rounds per epoch)", options.workers(), sizes, options.batchSizePerWorker(),
                options.averagingFrequency(), rounds);

        String fitId = UUID.randomUUID().toString();
        ModelConfig config = model.config();
        Broadcast<FeatureSpec> specB = sc.broadcast(spec);
        Broadcast<CandidateCorpus> corpusB = sc.broadcast(corpus);
        // logQ: the frequencies of all training rows, counted once, so W replicas train the single JVM's objective.
        Broadcast<double[]> sharesB = model.config().objective().logQCorrection()
                ? sc.broadcast(candidateShares(partitions, corpus.size())) : null;
        List<CurvePoint> curve = new ArrayList<>(curveSoFar);
        ModelState state = ModelState.of(model);
        StateLayout layout = StateLayout.of(model);
        double trainSeconds = curveSoFar.isEmpty() ? 0 : curveSoFar.get(curveSoFar.size() - 1).trainSeconds();
        double runSeconds = 0;
        timer.reset();
        try {
            for (int epoch = epochsDone + 1; epoch <= training.epochs(); epoch++) {
                long start = System.nanoTime();
                double lossSum = 0;
                long batches = 0;
                for (int round = 0; round < rounds; round++) {
                    long roundStart = System.nanoTime();
                    Broadcast<ModelState> stateB = sc.broadcast(state);
                    long broadcastNanos = System.nanoTime() - roundStart;
                    WorkerResult sum = partitions
                            .mapPartitionsWithIndex(new RoundTask(fitId, config, specB, corpusB, sharesB, stateB, options,
                                    training.stepThreads(),
                                    training.shuffleSeed(), epoch, round, round == rounds - 1), true)
                            .treeAggregate(WorkerResult.empty(), WorkerResult::add, WorkerResult::add);
                    stateB.destroy();
                    if (sum.examples == 0) {
                        continue;
                    }
                    state = sum.average(state, layout);
                    if (!state.isFinite()) {
                        throw new NumericFault("epoch " + epoch + ", averaging round " + (round + 1)
                                + ": parameters became NaN or infinite");
                    }
                    lossSum += sum.lossSum;
                    batches += sum.batches;
                    timer.add(System.nanoTime() - roundStart, broadcastNanos, sum.times, sum.shippedBytes, 8L * state.values().length * sum.replicas);
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                trainSeconds += seconds;
                runSeconds += seconds;
                double meanLoss = lossSum / Math.max(1, batches);
                listener.epochDone(epoch, training.epochs(), meanLoss, total / seconds,
                        runSeconds / (epoch - epochsDone) * (training.epochs() - epoch));
                if (training.evaluatesAfter(epoch)) {
                    state.applyTo(model);
                    CurvePoint point = new CurvePoint(epoch, meanLoss, test.score(model, corpus, metric), trainSeconds);
                    curve.add(point);
                    listener.evaluated(point);
                    if (listener.stopRequested()) {
                        break;
                    }
                }
            }
            LOG.info("Averaging: {} rounds, {} s each; replicas sent {} MB per round ({} MB as whole states)",
                    timer.rounds(), String.format(java.util.Locale.ROOT, "%.3f", timer.secondsPerRound()),
                    String.format(java.util.Locale.ROOT, "%.2f", timer.shippedBytesPerRound() / 1e6),
                    String.format(java.util.Locale.ROOT, "%.2f", timer.wholeStateBytesPerRound() / 1e6));
        } catch (Exception e) {
            // A replica's numeric fault reaches the driver as the cause of Spark's job failure (Spark deserializes
            // the task's exception): report it as the fault it is, so the sweep keeps the last good checkpoint.
            NumericFault fault = NumericFault.in(e);
            if (fault != null) {
                throw fault;
            }
            if (e instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException("distributed training failed: " + e.getMessage(), e);
        } finally {
            state.applyTo(model);
            partitions.unpersist(false);
            specB.destroy();
            corpusB.destroy();
            if (sharesB != null) {
                sharesB.destroy();
            }
        }
        return curve;
    }

    /** Each candidate record's share of all the rows of {@code partitions}: counted per partition, summed once. */
    static double[] candidateShares(JavaRDD<Interactions> partitions, int corpusSize) {
        long[] counts = partitions.map(p -> CandidateShares.counts(p, corpusSize))
                .fold(new long[corpusSize], CandidateShares::add);
        return CandidateShares.shares(counts);
    }

    /** The encoded rows as {@code workers} partitions, each one encoded column-wise into a single object. */
    private JavaRDD<Interactions> pack(Dataset<Row> trainRows, FeatureSpec spec) {
        // One partition keeps the DataFrame's order, so one worker sees the rows exactly as the single-JVM trainer.
        Dataset<Row> parts = options.repartition() && options.workers() > 1
                ? trainRows.repartition(options.workers()) : trainRows.coalesce(options.workers());
        // Each packed partition goes through a shuffle, keyed by its own index, to a partition of the same index: the
        // shuffle cuts the lineage each round's task serializes down to the shuffled RDD instead of the whole
        // DataFrame plan behind it (measured: 10-24 ms instead of 22-44 ms for an empty job in local mode), and a
        // lost partition is still rebuilt from the shuffle files or, if those are gone too, from the source.
        JavaRDD<Interactions> encoded = EncodedRatings.interactions(parts, spec);
        JavaRDD<Interactions> packed = JavaPairRDD.fromJavaRDD(encoded.mapPartitionsWithIndex(
                        (index, it) -> List.of(new Tuple2<>(index, it.next())).iterator(), true))
                .partitionBy(new HashPartitioner(encoded.getNumPartitions()))
                .values();
        packed.persist(StorageLevel.fromString(options.storageLevel()));
        return packed;
    }

    /** The work of one partition in one round: restore the broadcast state, train its minibatches, return state (package-private for tests). */
    record RoundTask(String fitId, ModelConfig config, Broadcast<FeatureSpec> spec,
                             Broadcast<CandidateCorpus> corpus, Broadcast<double[]> candidateShares,
                             Broadcast<ModelState> state, DistributedOptions options,
                             int stepThreads,
                             long seed, int epoch, int round, boolean lastRound)
            implements org.apache.spark.api.java.function.Function2<Integer, Iterator<Interactions>, Iterator<WorkerResult>> {
        @Override
        public Iterator<WorkerResult> call(Integer partition, Iterator<Interactions> rows) {
            Interactions data = rows.next();
            int batch = options.batchSizePerWorker();
            int from = round * batch * options.averagingFrequency();
            if (from >= data.size()) {
                return Collections.emptyIterator();
            }
            long started = System.nanoTime();
            NativeThreads.apply(options.nativeThreads());
            ReplicaCache.Replica replica = ReplicaCache.get(fitId, partition, config, spec.value(), corpus.value(),
                    stepThreads);
            // Two attempts of one partition in this JVM (speculation, a retry while the first still runs) share the
            // replica: each restores the broadcast state and trains in turn, never both at once.
            synchronized (replica) {
                return List.of(train(replica, data, partition, from, started)).iterator();
            }
        }

        private WorkerResult train(ReplicaCache.Replica replica, Interactions data, int partition, int from, long started) {
            int batch = options.batchSizePerWorker();
            state.value().applyTo(replica.model());
            replica.model().tables().forEach(EmbeddingTable::markUpdates);
            replica.step().startEpoch(epoch);
            if (config.objective().logQCorrection() && !replica.step().hasCandidateFrequencies()) {
                replica.step().candidateShares(candidateShares.value()); // all training rows', once per replica
            }
            int[] order = replica.order(data.size(), seed + PARTITION_SEED_STRIDE * partition, epoch);
            long restored = System.nanoTime();
            double loss = 0;
            long batches = 0;
            long examples = 0;
            for (int s = 0; s < options.averagingFrequency() && from < data.size(); s++, from += batch) {
                int to = Math.min(data.size(), from + batch);
                try {
                    loss += replica.step().run(data.select(order, from, to));
                } catch (NumericFault e) {
                    throw new NumericFault("epoch " + epoch + ", round " + (round + 1) + ", partition " + partition
                            + ", step " + (batches + 1) + ": " + e.getMessage());
                }
                batches++;
                examples += to - from;
            }
            long trained = System.nanoTime();
            long gcNanos = 0;
            if (lastRound) {
                replica.step().collectGarbage(); // as in the single-JVM trainer: release dead native buffers
                gcNanos = System.nanoTime() - trained;
            }
            long collectStart = System.nanoTime();
            WorkerResult result = WorkerResult.of(replica.model(), loss, batches, examples);
            result.times = new ReplicaTimes(restored - started, trained - restored, gcNanos,
                    System.nanoTime() - collectStart);
            return result;
        }
    }

    /**
     * Wall time of the averaging rounds, split into the slowest replica's training steps and the overhead around
     * them: the driver's broadcast, the replicas' state restore and collection, and the rest (Spark's scheduling,
     * task and result (de)serialization and transfer, aggregation on the driver).
     */
    public static final class RoundTimer {
        private long roundNanos;
        private long broadcastNanos;
        private ReplicaTimes replicas = ReplicaTimes.NONE;
        private long rounds;
        private long shippedBytes;
        private long denseBytes;

        public void reset() {
            shippedBytes = 0;
            denseBytes = 0;
            roundNanos = 0;
            broadcastNanos = 0;
            replicas = ReplicaTimes.NONE;
            rounds = 0;
        }

        void add(long wallNanos, long broadcast, ReplicaTimes slowest, long shipped, long dense) {
            shippedBytes += shipped;
            denseBytes += dense;
            add(wallNanos, broadcast, slowest);
        }

        void add(long wallNanos, long broadcast, ReplicaTimes slowest) {
            roundNanos += wallNanos;
            broadcastNanos += broadcast;
            replicas = replicas.plus(slowest);
            rounds++;
        }

        public long rounds() {
            return rounds;
        }

        /** Mean payload bytes all replicas together sent back per round (touched rows plus the dense layers). */
        public double shippedBytesPerRound() {
            return rounds == 0 ? 0 : (double) shippedBytes / rounds;
        }

        /** What the replicas would have sent per round as whole states (every row of every table, 8 bytes a value). */
        public double wholeStateBytesPerRound() {
            return rounds == 0 ? 0 : (double) denseBytes / rounds;
        }

        /** Mean wall time of a round, in seconds. */
        public double secondsPerRound() {
            return rounds == 0 ? 0 : roundNanos / 1e9 / rounds;
        }

        private double share(long nanos) {
            return roundNanos == 0 ? 0 : (double) nanos / roundNanos;
        }

        /** Share of round wall time in the replicas' once-per-epoch garbage collection (as the single-JVM trainer). */
        public double gcShare() {
            return share(replicas.gcNanos());
        }

        /** Share of round wall time outside training steps and the per-epoch GC. */
        public double overheadShare() {
            return roundNanos == 0 ? 0 : 1 - share(replicas.stepNanos() + replicas.gcNanos());
        }

        /** Share spent creating the broadcast of the parameters and accumulators on the driver. */
        public double broadcastShare() {
            return share(broadcastNanos);
        }

        /** Share spent by the slowest replica reading the broadcast state into its model. */
        public double restoreShare() {
            return share(replicas.restoreNanos());
        }

        /** Share spent by the slowest replica copying its state out of its model. */
        public double collectShare() {
            return share(replicas.collectNanos());
        }

        /** The rest of the overhead: scheduling, task and result transfer, aggregation. */
        public double schedulingAndTransferShare() {
            return overheadShare() - broadcastShare() - restoreShare() - collectShare();
        }
    }
}
