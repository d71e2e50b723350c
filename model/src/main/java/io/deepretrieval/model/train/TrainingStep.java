package io.deepretrieval.model.train;

import io.deepretrieval.model.task.RetrievalObjective;
import io.deepretrieval.model.compat.QuietStdout;
import io.deepretrieval.model.compat.SameDiffSessions;
import io.deepretrieval.model.features.CandidateCorpus;
import io.deepretrieval.model.features.Interactions;
import io.deepretrieval.model.io.Futures;
import io.deepretrieval.model.io.NdArrays;
import io.deepretrieval.model.task.RetrievalLoss;
import io.deepretrieval.model.towers.DenseParameter;
import io.deepretrieval.model.towers.EmbeddingTable;
import io.deepretrieval.model.towers.TwoTowerModel;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * One minibatch of training: look up embeddings, run the graph's forward and backward pass, apply Adagrad.
 * Holds no data of its own, so the single-JVM trainer and each distributed worker call the same step.
 *
 * <p>One pass of SameDiff's gradient function yields the loss and every parameter's gradient: the loss's gradient
 * with respect to both towers' outputs is computed in closed form inside the graph ({@link RetrievalLoss}) and
 * only the towers are differentiated, so no B×B op is ever differentiated and the towers' forward pass runs once.
 * The gradient function runs directly with its array cache on. Measured here: going through
 * {@code calculateGradients}, which turns the cache off, grows resident memory by 4-12 MB per step even without any
 * gather in the graph; with the cache on it levels off.
 *
 * <p>With {@code threads > 1} the batch's queries are split into that many slices, each run on its own thread
 * through its own copy of the graph (sharing the parameter arrays) against all of the batch's candidates, own
 * positives first. The slices' losses and gradients add up to the whole batch's, so this is the same optimisation
 * step (up to float rounding) with the B×B work spread over cores: ND4J's own op threads do not pay on these sizes
 * ({@link io.deepretrieval.model.io.NativeThreads}), whole slices on separate threads do.
 */
public final class TrainingStep implements AutoCloseable {
    private final TwoTowerModel model;
    private final CandidateCorpus corpus;
    private Adagrad optimizer;
    private final List<GraphReplica> replicas = new ArrayList<>();
    private final ExecutorService pool;
    /** The query feature id dropout acts on, or -1 without it. */
    private final int dropoutPosition;
    private final StepProfile profile = new StepProfile();
    private long pendingInputNanos;
    private long pendingGraphNanos;
    private long pendingExtractNanos;
    private int stepsSinceCollection;
    /** Per candidate record, its share of the training interactions (for the logQ correction); null until set. */
    private double[] candidateShare;
    /** Steps between two forced collections when a trainer does not collect sooner (e.g. at each epoch's end). */
    public static final int COLLECT_EVERY_STEPS = 100;

    /** A step that runs each batch as one piece on the calling thread. */
    public TrainingStep(TwoTowerModel model, CandidateCorpus corpus) {
        this(model, corpus, 1);
    }

    /** A step that splits each batch's queries over {@code threads} threads (the caller's among them). */
    public TrainingStep(TwoTowerModel model, CandidateCorpus corpus, int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("step threads must be >= 1, got " + threads);
        }
        this.model = model;
        this.corpus = corpus;
        this.dropoutPosition = model.config().idDropout().position(model.spec().query());
        this.optimizer = new Adagrad(model.config().learningRate(), model.config().epsilon());
        replicas.add(new GraphReplica(model, model.graph()));
        for (int i = 1; i < threads; i++) {
            replicas.add(new GraphReplica(model, model.trainingGraphCopy()));
        }
        // The slice threads live as long as the step: SameDiff M2.1 keeps one session per thread id for good
        // (SameDiffSessions), so threads that ended when idle (e.g. during a long evaluation) and were replaced
        // would leave a session behind each time.
        pool = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, runnable -> {
            Thread t = new Thread(runnable, "training-step-slice");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Sets the learning rate of the steps that follow from the model's schedule for {@code epoch} (1-based);
     * trainers call it at the start of every epoch.
     */
    public void startEpoch(int epoch) {
        double rate = model.config().learningRateAt(epoch);
        if ((float) rate != optimizer.learningRate()) {
            optimizer = new Adagrad(rate, model.config().epsilon());
        }
    }

    /** The gradient functions of the graph copies, first the model's own (for tests of their sessions). */
    List<SameDiff> gradientFunctions() {
        return replicas.stream().map(r -> r.gradients).toList();
    }

    /** SameDiff sessions held by the step's gradient functions: one per thread that ever ran each. */
    public int sessions() {
        return replicas.stream().mapToInt(r -> SameDiffSessions.sessions(r.gradients)).sum();
    }

    /** Number of slices a batch is split into. */
    public int threads() {
        return replicas.size();
    }

    /** Trains on one batch and returns its summed loss; on a NaN/infinite loss throws before changing anything. */
    public double run(Interactions batch) {
        Interactions trained = dropoutPosition < 0 ? batch
                : model.config().idDropout().apply(batch, dropoutPosition, model.config().initSeed());
        double loss = computeGradients(trained);
        applyUpdates();
        if (++stepsSinceCollection >= COLLECT_EVERY_STEPS) {
            collectGarbage();
        }
        return loss;
    }

    /**
     * Runs a full GC, which frees the native buffers of the step's dead arrays (ND4J releases them only when the JVM
     * collects their small on-heap owners, which heap pressure alone rarely triggers). Trainers call it once per
     * epoch; {@link #run} also calls it every {@value #COLLECT_EVERY_STEPS} steps, so that on large data (thousands of
     * steps per epoch) the graph's dead intermediates cannot pile up with the epoch (10M ratings: +2.4 GB within one
     * epoch before this; the step's own inputs and outputs are closed as soon as they are read). Also clears the
     * sessions' released-array ids ({@link SameDiffSessions}).
     */
    public void collectGarbage() {
        SameDiffSessions.forgetReleasedArrayIds(model.graph());  // evaluation passes
        for (GraphReplica r : replicas) {
            SameDiffSessions.forgetReleasedArrayIds(r.gradients);
        }
        System.gc();
        stepsSinceCollection = 0;
    }

    /**
     * Forward and backward pass: returns the batch's summed loss and adds every parameter's gradient to
     * {@link io.deepretrieval.model.towers.Parameter#gradient()}, without changing any parameter.
     */
    public double computeGradients(Interactions batch) {
        long t0 = System.nanoTime();
        int slices = Math.min(replicas.size(), batch.size());
        int[] negatives = negatives(batch);
        AtomicBoolean abort = new AtomicBoolean();
        List<Future<SliceResult>> others = new ArrayList<>();
        for (int i = 1; i < slices; i++) {
            int index = i;
            others.add(pool.submit(() -> abort.get() ? null : runSlice(batch, index, slices, negatives)));
        }
        List<SliceResult> results = collectSlices(() -> runSlice(batch, 0, slices, negatives), others, abort,
                SliceResult::close);
        long t2 = System.nanoTime();
        double loss = 0;
        long inputNanos = 0;
        for (SliceResult r : results) {
            loss += r.loss;
            inputNanos = Math.max(inputNanos, r.inputNanos);
        }
        if (!Double.isFinite(loss)) {
            results.forEach(SliceResult::close);
            throw new NumericFault("loss is " + loss + " on a batch of " + batch.size());
        }
        pendingInputNanos = inputNanos;
        pendingGraphNanos = t2 - t0 - inputNanos;
        for (int i = 0; i < results.size(); i++) {
            replicas.get(i).addGradients(results.get(i));
        }
        pendingExtractNanos = System.nanoTime() - t2;
        return loss;
    }

    /**
     * Runs slice 0 here and gathers the others. When one fails, {@code abort} is set, so that slices which have not
     * started return null without running; the running ones are waited for (none outlives the step), every finished
     * slice's arrays are freed, and the first failure is thrown with the others suppressed (package-private for
     * tests).
     */
    static <T> List<T> collectSlices(Callable<T> first, List<Future<T>> others, AtomicBoolean abort, Consumer<T> free) {
        List<T> results = new ArrayList<>();
        Throwable failure = null;
        try {
            results.add(first.call());
        } catch (Exception | Error e) {
            failure = e;
            abort.set(true);
        }
        for (Future<T> f : others) {
            try {
                T r = Futures.join(f);
                if (r != null) {
                    results.add(r);
                }
            } catch (RuntimeException | Error e) {
                abort.set(true);
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            results.forEach(free);
            if (failure instanceof RuntimeException r) {
                throw r;
            }
            if (failure instanceof Error e) {
                throw e;
            }
            throw new IllegalStateException(failure);
        }
        return results;
    }

    /**
     * Slice {@code index} of {@code slices}: its share of the batch's queries against all of the batch's
     * candidates, its own positives first (the order of the others does not change the softmax).
     */
    private SliceResult runSlice(Interactions batch, int index, int slices, int[] negatives) {
        long t0 = System.nanoTime();
        int n = batch.size();
        int from = (int) ((long) n * index / slices);
        int to = (int) ((long) n * (index + 1) / slices);
        int[] positives = batch.candidate();
        TwoTowerModel.Feeds feeds;
        if (slices == 1) {
            feeds = feeds(batch, positives, withNegatives(positives, negatives), 0, n);
        } else {
            int[] candidates = new int[n];
            System.arraycopy(positives, from, candidates, 0, to - from);
            System.arraycopy(positives, 0, candidates, to - from, from);
            System.arraycopy(positives, to, candidates, to, n - to);
            feeds = feeds(batch, positives, withNegatives(candidates, negatives), from, to);
        }
        long t1 = System.nanoTime();
        return replicas.get(index).run(feeds, t1 - t0);
    }

    /** Applies Adagrad to every parameter with the gradients of the last {@link #computeGradients}. */
    public void applyUpdates() {
        long start = System.nanoTime();
        for (DenseParameter p : model.denseParameters()) {
            p.applyUpdate(optimizer);
        }
        for (EmbeddingTable t : model.tables()) {
            t.applyUpdate(optimizer);
        }
        profile.record(pendingInputNanos, pendingGraphNanos, pendingExtractNanos + System.nanoTime() - start);
    }

    /** Time split of the steps run so far (gradient extraction counts as optimizer work). */
    public StepProfile profile() {
        return profile;
    }

    /** The batch's summed loss, forward pass only. */
    public double loss(Interactions batch) {
        int[] candidates = withNegatives(batch.candidate(), negatives(batch));
        return model.graph().output(feeds(batch, batch.candidate(), candidates, 0, batch.size()).values(),
                RetrievalLoss.LOSS).get(RetrievalLoss.LOSS).getDouble(0);
    }

    /**
     * Sets each candidate record's share of the training interactions, which the logQ correction needs, from the
     * rows this trainer trains on (the single-JVM trainers).
     */
    public void candidateFrequencies(Interactions train) {
        candidateShares(CandidateShares.of(train, corpus.size()));
    }

    /**
     * Sets each candidate record's share of the training interactions as counted elsewhere: a replica under
     * parameter averaging gets the shares of all training rows, not its partition's.
     */
    public void candidateShares(double[] share) {
        if (share.length != corpus.size()) {
            throw new IllegalArgumentException(share.length + " candidate shares for " + corpus.size() + " candidates");
        }
        candidateShare = share.clone();
    }

    /** The candidate shares the logQ correction uses (a copy), or null before they are set. */
    public double[] candidateShares() {
        return candidateShare == null ? null : candidateShare.clone();
    }

    /** Whether {@link #candidateFrequencies} was given. */
    public boolean hasCandidateFrequencies() {
        return candidateShare != null;
    }

    /** The objective's uniformly sampled extra negatives for a batch, seeded by the batch itself (resumes exactly). */
    private int[] negatives(Interactions batch) {
        int m = model.config().objective().mixedNegatives();
        if (m == 0) {
            return new int[0];
        }
        java.util.SplittableRandom rng = new java.util.SplittableRandom(
                model.config().initSeed() * 31 + java.util.Arrays.hashCode(batch.candidate()));
        int[] out = new int[m];
        for (int i = 0; i < m; i++) {
            out[i] = rng.nextInt(corpus.size());
        }
        return out;
    }

    private static int[] withNegatives(int[] candidates, int[] negatives) {
        if (negatives.length == 0) {
            return candidates;
        }
        int[] all = java.util.Arrays.copyOf(candidates, candidates.length + negatives.length);
        System.arraycopy(negatives, 0, all, candidates.length, negatives.length);
        return all;
    }

    /**
     * The graph inputs of queries {@code from..to} of a batch scored against {@code candidates} (that slice's
     * positives first), with the objective's logit bias: the logQ correction per candidate column and the mask of
     * accidental hits (the row's own positive record elsewhere among the candidates).
     */
    private TwoTowerModel.Feeds feeds(Interactions batch, int[] positives, int[] candidates, int from, int to) {
        Interactions queries = from == 0 && to == batch.size() ? batch : batch.select(null, from, to);
        TwoTowerModel.Feeds feeds = model.feeds(queries, candidates, corpus);
        RetrievalObjective objective = model.config().objective();
        if (!objective.biased()) {
            return feeds;
        }
        int n = to - from;
        int m = candidates.length;
        float[] column = new float[m];
        if (objective.logQCorrection()) {
            if (candidateShare == null) {
                throw new IllegalStateException("the logQ correction needs candidateFrequencies(train) first");
            }
            // Expected count of each candidate among a batch's: batch × its share, plus the uniform extras'.
            double uniform = (double) objective.mixedNegatives() / corpus.size();
            for (int j = 0; j < m; j++) {
                column[j] = (float) -Math.log(Math.max(1e-12, batch.size() * candidateShare[candidates[j]] + uniform));
            }
        }
        float[] bias = new float[Math.multiplyExact(n, m)];
        float[] positive = new float[n];
        for (int i = 0; i < n; i++) {
            int own = positives[from + i];
            System.arraycopy(column, 0, bias, i * m, m);
            positive[i] = column[i];
            if (objective.removeAccidentalHits()) {
                for (int j = 0; j < m; j++) {
                    if (j != i && candidates[j] == own) {
                        bias[i * m + j] = RetrievalObjective.MASKED_LOGIT;
                    }
                }
            }
        }
        feeds.values().put(RetrievalLoss.LOGIT_BIAS, org.nd4j.linalg.factory.Nd4j.create(bias, new long[]{n, m}, 'c'));
        feeds.values().put(RetrievalLoss.POSITIVE_BIAS, org.nd4j.linalg.factory.Nd4j.create(positive, new long[]{n, 1}, 'c'));
        return feeds;
    }

    /** Stops the slice threads. */
    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }

    private record SliceResult(TwoTowerModel.Feeds feeds, Map<String, INDArray> outputs, double loss, long inputNanos) {
        /** Frees the slice's inputs and outputs. */
        void close() {
            SameDiffSessions.close(feeds.values().values());
            SameDiffSessions.close(outputs.values());
        }
    }

    /** One training graph's gradient function and the names of its outputs. */
    private static final class GraphReplica {
        private final TwoTowerModel model;
        private final SameDiff gradients;
        private final Map<String, String> gradientOf = new HashMap<>();
        private final String[] outputs;

        GraphReplica(TwoTowerModel model, SameDiff sd) {
            this.model = model;
            List<String> wanted = new ArrayList<>();
            for (DenseParameter p : model.denseParameters()) {
                wanted.add(p.name());
            }
            wanted.addAll(model.embeddingInputs());
            if (!sd.hasGradientFunction()) {
                QuietStdout.run(() -> sd.createGradFunction(wanted.toArray(String[]::new)));
            }
            gradients = sd.getFunction("grad");
            gradients.setEnableCache(true);
            List<String> out = new ArrayList<>(List.of(RetrievalLoss.LOSS));
            for (String name : wanted) {
                String g = sd.getVariable(name).getGradient().name();
                gradientOf.put(name, g);
                out.add(g);
            }
            outputs = out.toArray(String[]::new);
        }

        SliceResult run(TwoTowerModel.Feeds feeds, long inputNanos) {
            Map<String, INDArray> result;
            try {
                result = gradients.output(feeds.values(), outputs);
            } catch (RuntimeException | Error e) {
                SameDiffSessions.close(feeds.values().values());
                throw e;
            }
            return new SliceResult(feeds, result, result.get(RetrievalLoss.LOSS).getDouble(0), inputNanos);
        }

        /** Adds a slice's gradients to the parameters (dense) and the tables (looked-up rows). */
        void addGradients(SliceResult r) {
            for (DenseParameter p : model.denseParameters()) {
                p.addGradient(r.outputs.get(gradientOf.get(p.name())));
            }
            Map<String, float[]> embeddingGradients = new HashMap<>();
            for (String input : model.embeddingInputs()) {
                embeddingGradients.put(input, NdArrays.floats(r.outputs.get(gradientOf.get(input))));
            }
            model.addEmbeddingGradients(r.feeds, embeddingGradients);
            // Free this step's inputs and outputs now instead of at the next collection: with two slices they are
            // ~4 MB a step, which piled up between collections (every 100 steps on large data).
            r.close();
        }
    }
}
