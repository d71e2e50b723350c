package io.deepretrieval.spark.ml;

import io.deepretrieval.model.features.CandidateCorpus;
import io.deepretrieval.model.features.FeatureConfig;
import io.deepretrieval.model.features.FeatureSpec;
import io.deepretrieval.model.features.IdDropout;
import io.deepretrieval.model.features.Interactions;
import io.deepretrieval.model.features.TowerFeatures;
import io.deepretrieval.model.io.NativeThreads;
import io.deepretrieval.model.io.NdArrays;
import io.deepretrieval.model.metrics.FactorizedTopK;
import io.deepretrieval.model.task.RetrievalObjective;
import io.deepretrieval.model.towers.ModelConfig;
import io.deepretrieval.model.towers.TwoTowerModel;
import io.deepretrieval.model.train.CurvePoint;
import io.deepretrieval.model.train.EarlyStopping;
import io.deepretrieval.model.train.HeldOutRows;
import io.deepretrieval.model.train.ModelState;
import io.deepretrieval.model.train.TrainingOptions;
import io.deepretrieval.spark.eval.RankingMetrics;
import io.deepretrieval.spark.preprocess.EncodedRatings;
import io.deepretrieval.spark.preprocess.FeaturePreprocessor;
import io.deepretrieval.spark.preprocess.InteractionHistories;
import io.deepretrieval.spark.preprocess.InteractionSplits;
import io.deepretrieval.spark.preprocess.KeyColumns;
import io.deepretrieval.spark.train.CheckpointedTraining;
import io.deepretrieval.spark.train.ConsoleProgress;
import io.deepretrieval.spark.train.DistributedHeldOut;
import io.deepretrieval.spark.train.DistributedOptions;
import io.deepretrieval.spark.train.StepThreads;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntArrayParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.param.StringArrayParam;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.stream.IntStream;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.xxhash64;

/**
 * Two-tower retrieval as a Spark ML {@link Estimator}, in the form of MLlib's {@code ALS}: typed params with
 * defaults and validators, {@code fit} on an interactions DataFrame, a {@link TwoTowerRetrievalModel} that
 * recommends. The towers are built from declared features ({@code queryFeatures}, {@code candidateFeatures});
 * by default the tutorial's: query = user id + time (buckets and normalised), candidate = item title (categorical)
 * + its title tokens. Candidates are keyed by the item column.
 */
public final class TwoTowerRetrieval extends Estimator<TwoTowerRetrievalModel> implements DefaultParamsWritable {
    private static final Logger LOG = LoggerFactory.getLogger(TwoTowerRetrieval.class);
    /** The values of {@code coldStartStrategy}, as ALS's. */
    static final String[] COLD_START_STRATEGIES = {"nan", "drop"};
    static final String COLD_START_DOC = "what the model does with rows it cannot score: nan (default) scores an"
            + " unknown item NaN and embeds an unknown user through the out-of-vocabulary row; drop leaves out rows"
            + " with an unknown user or item in transform and unknown users in recommendForUserSubset (as ALS, for"
            + " cross-validation)";
    private final String uid;

    private final Param<String> userCol;
    private final Param<String> itemCol;
    private final Param<String> timestampCol;
    private final Param<String> titleCol;
    private final IntArrayParam layerSizes;
    private final IntParam embeddingDim;
    private final IntParam batchSize;
    private final IntParam maxEpochs;
    private final DoubleParam learningRate;
    private final DoubleParam initialAccumulator;
    private final DoubleParam epsilon;
    private final LongParam seed;
    private final IntParam numWorkers;
    private final IntParam averagingFrequency;
    private final IntParam stepThreads;
    private final IntParam nativeThreads;
    private final IntParam timestampBuckets;
    private final IntParam maxTokens;
    private final DoubleParam validationFraction;
    private final IntParam evalEvery;
    private final StringArrayParam queryFeatures;
    private final Param<String> validationSplit;
    private final IntParam validationLastN;
    private final Param<String> preprocessOn;
    private final Param<String> historyMode;
    private final Param<String> handleInvalid;
    private final Param<String> checkpointDir;
    private final IntParam rankingK;
    private final DoubleParam temperature;
    private final BooleanParam removeAccidentalHits;
    private final BooleanParam logQCorrection;
    private final IntParam mixedNegatives;
    private final DoubleParam idDropout;
    private final StringArrayParam candidateFeatures;
    private final IntParam earlyStoppingPatience;
    private final DoubleParam earlyStoppingFraction;
    private final IntParam earlyStoppingK;
    private final BooleanParam refitAfterStopping;
    private final Param<String> coldStartStrategy;
    private final Param<String> recommendationsCol;
    private final IntParam recommendationsK;
    private final Param<String> validationIndicatorCol;
    private final IntArrayParam topK;
    private final StringArrayParam learningRateSchedule;
    private final Param<String> storageLevel;
    private final BooleanParam repartition;

    public TwoTowerRetrieval() {
        this(Identifiable$.MODULE$.randomUID("twoTowerRetrieval"));
    }

    public TwoTowerRetrieval(String uid) {
        this.uid = uid;
        userCol = new Param<>(this, "userCol", "column of user ids (string or integer)");
        itemCol = new Param<>(this, "itemCol", "column of item ids (string or integer); candidates are keyed by it");
        timestampCol = new Param<>(this, "timestampCol",
                "column of interaction times in seconds (integer, double or timestamp); empty: no time feature");
        titleCol = new Param<>(this, "titleCol", "column of item titles (string; one per item); empty: the item id");
        layerSizes = new IntArrayParam(this, "layerSizes", "dense layers on top of each tower; the last is the embedding width",
                (scala.Function1<int[], Object> & Serializable) sizes -> sizes.length > 0
                        && Arrays.stream(sizes).allMatch(v -> v >= 1 && v <= ModelConfig.MAX_LAYER_SIZE));
        embeddingDim = new IntParam(this, "embeddingDim", "width of every embedding table", ParamValidators.gtEq(1));
        batchSize = new IntParam(this, "batchSize", "minibatch (= in-batch negatives), per worker with numWorkers >= 1",
                ParamValidators.gtEq(1));
        maxEpochs = new IntParam(this, "maxEpochs", "passes over the interactions", ParamValidators.gtEq(1));
        learningRate = new DoubleParam(this, "learningRate", "Adagrad learning rate", ParamValidators.gt(0));
        initialAccumulator = new DoubleParam(this, "initialAccumulator", "Adagrad's initial accumulator",
                ParamValidators.gtEq(0));
        epsilon = new DoubleParam(this, "epsilon", "Adagrad's epsilon", ParamValidators.gt(0));
        seed = new LongParam(this, "seed", "initialisation, shuffling and the validation split");
        numWorkers = new IntParam(this, "numWorkers",
                "0 trains in the driver JVM; N trains N replicas on executors with parameter averaging",
                ParamValidators.gtEq(0));
        averagingFrequency = new IntParam(this, "averagingFrequency", "local steps between averagings",
                ParamValidators.gtEq(1));
        stepThreads = new IntParam(this, "stepThreads",
                "threads a step splits its batch over (0: every core in the driver, spark.task.cpus on executors)",
                ParamValidators.gtEq(0));
        nativeThreads = new IntParam(this, "nativeThreads",
                "ND4J op and BLAS threads per training task (0: ND4J's default, all cores; 1 was fastest measured)",
                ParamValidators.gtEq(0));
        timestampBuckets = new IntParam(this, "timestampBuckets",
                "time bucket boundaries of the default query features (declared features carry their own)", ParamValidators.gtEq(2));
        maxTokens = new IntParam(this, "maxTokens",
                "title-token vocabulary of the default candidate features, padding and [UNK] included",
                ParamValidators.gtEq(3));
        validationFraction = new DoubleParam(this, "validationFraction",
                "share of interactions held out (random: seeded; temporal: the latest) whose top-K curve and per-user"
                + " ranking are logged (0: none)", ParamValidators.inRange(0, 0.5, true, false));
        evalEvery = new IntParam(this, "evalEvery", "epochs between validation points", ParamValidators.gtEq(1));
        queryFeatures = new StringArrayParam(this, "queryFeatures", "the query tower's features, each"
                + " [name=]column:kind[:size] with kind categorical, text, numeric or timestamp, read from the interactions;"
                + " empty: the tutorial's, userCol (categorical) and timestampCol (timestamp with timestampBuckets)");
        candidateFeatures = new StringArrayParam(this, "candidateFeatures", "the candidate tower's features, as"
                + " queryFeatures, with one value per item; empty: the tutorial's, titleCol (categorical) and its tokens"
                + " (text with maxTokens), or itemCol (categorical) without a titleCol");
        validationSplit = new Param<>(this, "validationSplit", "how validation rows are held out: random"
                + " (validationFraction of the rows, seeded), temporal (the latest validationFraction of the rows by"
                + " time) or lastN (each user's validationLastN latest interactions)",
                ParamValidators.inArray(new String[]{"random", "temporal", "lastN"}));
        validationLastN = new IntParam(this, "validationLastN", "interactions per user held out by validationSplit lastN",
                ParamValidators.gtEq(1));
        handleInvalid = new Param<>(this, "handleInvalid", "rows with a null user, item or time, or a null, NaN or"
                + " infinite value in a column a feature or the title reads: error (stop the fit, naming the column and"
                + " the count) or skip (leave them out, counted in the log), as Spark's StringIndexer",
                ParamValidators.inArray(new String[]{"error", "skip"}));
        historyMode = new Param<>(this, "historyMode", "what a history feature built from the interactions reads on"
                + " the training rows: sequential (the user's items strictly before the row's time, as a next-item"
                + " query sees them) or profile (the user's latest training items other than the row itself, as a"
                + " query made after all of them sees them: recommendForAllUsers, the kept histories); with profile the"
                + " held-out rows of the random and lastN splits and of validationIndicatorCol read the user's latest"
                + " training items too",
                ParamValidators.inArray(new String[]{"sequential", "profile"}));
        preprocessOn = new Param<>(this, "preprocessOn", "rows the vocabularies and statistics are fitted on: all"
                + " (the tutorial, as the original) or train (validation rows stay unseen)",
                ParamValidators.inArray(new String[]{"all", "train"}));
        checkpointDir = new Param<>(this, "checkpointDir", "local folder for a checkpoint after every evaluation; a"
                + " fit with the same settings resumes from it (empty: no checkpoints)");
        rankingK = new IntParam(this, "rankingK", "K of the per-user recall@K and NDCG@K computed on the validation"
                + " rows (0: not computed, e.g. when only the top-K curve is wanted)", ParamValidators.gtEq(0));
        temperature = new DoubleParam(this, "temperature", "the in-batch softmax's logits are divided by it", ParamValidators.gt(0));
        removeAccidentalHits = new BooleanParam(this, "removeAccidentalHits",
                "mask a batch candidate that is the row's own positive item at another position");
        logQCorrection = new BooleanParam(this, "logQCorrection",
                "lower each candidate's logit by the log of its expected count in a batch (training frequencies)");
        mixedNegatives = new IntParam(this, "mixedNegatives", "uniformly sampled items added to every batch as negatives",
                ParamValidators.gtEq(0));
        idDropout = new DoubleParam(this, "idDropout", "share of training examples whose user id (the categorical"
                + " query feature on userCol) is replaced by the out-of-vocabulary index, so that the row unseen users"
                + " get is trained (use with preprocessOn train, where unseen users map to it); 0: off",
                ParamValidators.inRange(0, 1, true, false));
        earlyStoppingPatience = new IntParam(this, "earlyStoppingPatience", "evaluations (every evalEvery epochs)"
                + " without a better top-earlyStoppingK on the stopping slice before training stops and the best"
                + " epoch's parameters are kept (0: off, train maxEpochs)", ParamValidators.gtEq(0));
        earlyStoppingFraction = new DoubleParam(this, "earlyStoppingFraction", "share of the training rows held out"
                + " as the stopping slice, the way validationSplit holds out its rows (random: seeded; temporal: the"
                + " latest training rows; lastN: each user's validationLastN latest training rows, fraction unused)",
                ParamValidators.inRange(0, 0.5, false, false));
        earlyStoppingK = new IntParam(this, "earlyStoppingK", "the top-K accuracy early stopping watches (1, 5, 10, 50 or 100)",
                ParamValidators.inArray(new int[]{1, 5, 10, 50, 100}));
        refitAfterStopping = new BooleanParam(this, "refitAfterStopping", "after early"
                + " stopping, train a fresh model on every training row (stopping slice included) for the best epoch"
                + " count, as TrainValidationSplit refits on all the data; false keeps the stopped model");
        coldStartStrategy = new Param<>(this, "coldStartStrategy", COLD_START_DOC,
                ParamValidators.inArray(COLD_START_STRATEGIES));
        setDefault(coldStartStrategy, "nan");
        recommendationsCol = new Param<>(this, "recommendationsCol", TwoTowerRetrievalModel.RECOMMENDATIONS_COL_DOC);
        recommendationsK = new IntParam(this, "recommendationsK", TwoTowerRetrievalModel.RECOMMENDATIONS_K_DOC,
                ParamValidators.gtEq(1));
        setDefault(recommendationsCol, "");
        setDefault(recommendationsK, 10);
        validationIndicatorCol = new Param<>(this, "validationIndicatorCol", "boolean column marking the validation"
                + " rows (true) instead of validationSplit and validationFraction, as Spark's GBT and FM estimators take"
                + " it: the caller holds out the rows, e.g. to keep one split across several seeds; empty: none");
        topK = new IntArrayParam(this, "topK", "the Ks of the factorized top-K accuracy on the validation rows"
                + " (ascending, each >= 1)", (scala.Function1<int[], Object> & Serializable) ks -> ks.length > 0
                && IntStream.range(0, ks.length).allMatch(i -> ks[i] >= 1 && (i == 0 || ks[i] > ks[i - 1])));
        learningRateSchedule = new StringArrayParam(this, "learningRateSchedule", "piecewise-constant Adagrad rate,"
                + " each entry epoch:rate (from that 1-based epoch on; before the first, learningRate); empty: constant");
        storageLevel = new Param<>(this, "storageLevel", "Spark storage level of the training partitions under"
                + " parameter averaging (numWorkers >= 1), e.g. MEMORY_ONLY or MEMORY_AND_DISK_SER",
                (scala.Function1<String, Object> & Serializable) TwoTowerRetrieval::isStorageLevel);
        repartition = new BooleanParam(this, "repartition", "under parameter averaging,"
                + " shuffle the training rows into numWorkers partitions of equal size (false: coalesce, no shuffle)");
        setDefault(validationIndicatorCol, "");
        setDefault(topK, new int[]{1, 5, 10, 50, 100});
        setDefault(learningRateSchedule, new String[0]);
        setDefault(storageLevel, "MEMORY_ONLY");
        setDefault(repartition, true);
        setDefault(earlyStoppingPatience, 0);
        setDefault(earlyStoppingFraction, 0.1);
        setDefault(earlyStoppingK, 100);
        setDefault(refitAfterStopping, true);
        setDefault(temperature, 1.0);
        setDefault(removeAccidentalHits, false);
        setDefault(logQCorrection, false);
        setDefault(mixedNegatives, 0);
        setDefault(idDropout, 0.0);
        setDefault(validationSplit, "random");
        setDefault(validationLastN, 1);
        setDefault(preprocessOn, "all");
        setDefault(historyMode, "sequential");
        setDefault(handleInvalid, "error");
        setDefault(checkpointDir, "");
        setDefault(rankingK, 10);
        setDefault(queryFeatures, new String[0]);
        setDefault(candidateFeatures, new String[0]);
        setDefault(userCol, "user_id");
        setDefault(itemCol, "movie_id");
        setDefault(timestampCol, "timestamp");
        setDefault(titleCol, "title");
        setDefault(layerSizes, new int[]{32});
        setDefault(embeddingDim, 32);
        setDefault(batchSize, 2048);
        setDefault(maxEpochs, 300);
        setDefault(learningRate, 0.1);
        setDefault(initialAccumulator, 0.1);
        setDefault(epsilon, 1e-7);
        setDefault(seed, 42L);
        setDefault(numWorkers, 0);
        setDefault(averagingFrequency, 20);
        setDefault(stepThreads, 0);
        setDefault(nativeThreads, 1);
        setDefault(timestampBuckets, FeaturePreprocessor.DEFAULT_BUCKETS);
        setDefault(maxTokens, FeaturePreprocessor.DEFAULT_MAX_TOKENS);
        setDefault(validationFraction, 0.0);
        setDefault(evalEvery, 5);
    }

    @Override
    public String uid() {
        return uid;
    }

    // Params: public accessors, as Spark ML finds params through them.
    public Param<String> userCol() { return userCol; }
    public Param<String> itemCol() { return itemCol; }
    public Param<String> timestampCol() { return timestampCol; }
    public Param<String> titleCol() { return titleCol; }
    public IntArrayParam layerSizes() { return layerSizes; }
    public IntParam embeddingDim() { return embeddingDim; }
    public IntParam batchSize() { return batchSize; }
    public IntParam maxEpochs() { return maxEpochs; }
    public DoubleParam learningRate() { return learningRate; }
    public DoubleParam initialAccumulator() { return initialAccumulator; }
    public DoubleParam epsilon() { return epsilon; }
    public LongParam seed() { return seed; }
    public IntParam numWorkers() { return numWorkers; }
    public IntParam averagingFrequency() { return averagingFrequency; }
    public IntParam stepThreads() { return stepThreads; }
    public IntParam nativeThreads() { return nativeThreads; }
    public IntParam timestampBuckets() { return timestampBuckets; }
    public Param<String> coldStartStrategy() { return coldStartStrategy; }
    public Param<String> recommendationsCol() { return recommendationsCol; }
    public IntParam recommendationsK() { return recommendationsK; }
    public Param<String> validationIndicatorCol() { return validationIndicatorCol; }
    public IntArrayParam topK() { return topK; }
    public StringArrayParam learningRateSchedule() { return learningRateSchedule; }
    public Param<String> storageLevel() { return storageLevel; }
    public BooleanParam repartition() { return repartition; }
    public TwoTowerRetrieval setValidationIndicatorCol(String v) { set(validationIndicatorCol, v); return this; }
    public TwoTowerRetrieval setTopK(int... v) { set(topK, v); return this; }
    public TwoTowerRetrieval setLearningRateSchedule(String... v) { set(learningRateSchedule, v); return this; }
    public TwoTowerRetrieval setStorageLevel(String v) { set(storageLevel, v); return this; }
    public TwoTowerRetrieval setRepartition(boolean v) { set(repartition, v); return this; }
    public TwoTowerRetrieval setColdStartStrategy(String v) { set(coldStartStrategy, v); return this; }
    public TwoTowerRetrieval setRecommendationsCol(String v) { set(recommendationsCol, v); return this; }
    public TwoTowerRetrieval setRecommendationsK(int v) { set(recommendationsK, v); return this; }
    public IntParam maxTokens() { return maxTokens; }
    public DoubleParam validationFraction() { return validationFraction; }
    public IntParam evalEvery() { return evalEvery; }
    public StringArrayParam queryFeatures() { return queryFeatures; }
    public Param<String> validationSplit() { return validationSplit; }
    public IntParam validationLastN() { return validationLastN; }
    public Param<String> preprocessOn() { return preprocessOn; }
    /** What a history feature built from the interactions reads on the training rows: sequential or profile. */
    public Param<String> historyMode() { return historyMode; }
    /** What the fit does with rows that have a null id or time or an invalid feature value: error or skip. */
    public Param<String> handleInvalid() { return handleInvalid; }
    public Param<String> checkpointDir() { return checkpointDir; }
    public IntParam rankingK() { return rankingK; }
    public DoubleParam temperature() { return temperature; }
    public BooleanParam removeAccidentalHits() { return removeAccidentalHits; }
    public BooleanParam logQCorrection() { return logQCorrection; }
    public IntParam mixedNegatives() { return mixedNegatives; }
    public DoubleParam idDropout() { return idDropout; }
    public StringArrayParam candidateFeatures() { return candidateFeatures; }
    public IntParam earlyStoppingPatience() { return earlyStoppingPatience; }
    public DoubleParam earlyStoppingFraction() { return earlyStoppingFraction; }
    public IntParam earlyStoppingK() { return earlyStoppingK; }
    public BooleanParam refitAfterStopping() { return refitAfterStopping; }

    public TwoTowerRetrieval setUserCol(String v) { set(userCol, v); return this; }
    public TwoTowerRetrieval setItemCol(String v) { set(itemCol, v); return this; }
    public TwoTowerRetrieval setTimestampCol(String v) { set(timestampCol, v); return this; }
    public TwoTowerRetrieval setTitleCol(String v) { set(titleCol, v); return this; }
    public TwoTowerRetrieval setLayerSizes(int... v) { set(layerSizes, v.clone()); return this; }
    public TwoTowerRetrieval setEmbeddingDim(int v) { set(embeddingDim, v); return this; }
    public TwoTowerRetrieval setBatchSize(int v) { set(batchSize, v); return this; }
    public TwoTowerRetrieval setMaxEpochs(int v) { set(maxEpochs, v); return this; }
    public TwoTowerRetrieval setLearningRate(double v) { set(learningRate, v); return this; }
    public TwoTowerRetrieval setInitialAccumulator(double v) { set(initialAccumulator, v); return this; }
    public TwoTowerRetrieval setEpsilon(double v) { set(epsilon, v); return this; }
    public TwoTowerRetrieval setSeed(long v) { set(seed, v); return this; }
    public TwoTowerRetrieval setNumWorkers(int v) { set(numWorkers, v); return this; }
    public TwoTowerRetrieval setAveragingFrequency(int v) { set(averagingFrequency, v); return this; }
    public TwoTowerRetrieval setStepThreads(int v) { set(stepThreads, v); return this; }
    public TwoTowerRetrieval setNativeThreads(int v) { set(nativeThreads, v); return this; }
    public TwoTowerRetrieval setTimestampBuckets(int v) { set(timestampBuckets, v); return this; }
    public TwoTowerRetrieval setMaxTokens(int v) { set(maxTokens, v); return this; }
    public TwoTowerRetrieval setValidationFraction(double v) { set(validationFraction, v); return this; }
    public TwoTowerRetrieval setEvalEvery(int v) { set(evalEvery, v); return this; }
    public TwoTowerRetrieval setQueryFeatures(String... v) { set(queryFeatures, v.clone()); return this; }
    public TwoTowerRetrieval setValidationSplit(String v) { set(validationSplit, v); return this; }
    public TwoTowerRetrieval setValidationLastN(int v) { set(validationLastN, v); return this; }
    public TwoTowerRetrieval setPreprocessOn(String v) { set(preprocessOn, v); return this; }
    /** Sets {@link #historyMode()}: {@code sequential} (default) or {@code profile}. */
    public TwoTowerRetrieval setHistoryMode(String v) { set(historyMode, v); return this; }
    /** Sets {@link #handleInvalid()}: {@code error} (default) or {@code skip}. */
    public TwoTowerRetrieval setHandleInvalid(String v) { set(handleInvalid, v); return this; }
    public TwoTowerRetrieval setCheckpointDir(String v) { set(checkpointDir, v); return this; }
    public TwoTowerRetrieval setRankingK(int v) { set(rankingK, v); return this; }
    public TwoTowerRetrieval setTemperature(double v) { set(temperature, v); return this; }
    public TwoTowerRetrieval setRemoveAccidentalHits(boolean v) { set(removeAccidentalHits, v); return this; }
    public TwoTowerRetrieval setLogQCorrection(boolean v) { set(logQCorrection, v); return this; }
    public TwoTowerRetrieval setMixedNegatives(int v) { set(mixedNegatives, v); return this; }
    public TwoTowerRetrieval setIdDropout(double v) { set(idDropout, v); return this; }
    public TwoTowerRetrieval setCandidateFeatures(String... v) { set(candidateFeatures, v.clone()); return this; }
    public TwoTowerRetrieval setEarlyStoppingPatience(int v) { set(earlyStoppingPatience, v); return this; }
    public TwoTowerRetrieval setEarlyStoppingFraction(double v) { set(earlyStoppingFraction, v); return this; }
    public TwoTowerRetrieval setEarlyStoppingK(int v) { set(earlyStoppingK, v); return this; }
    public TwoTowerRetrieval setRefitAfterStopping(boolean v) { set(refitAfterStopping, v); return this; }

    private int intOf(IntParam p) {
        return (Integer) $(p);
    }

    private double doubleOf(DoubleParam p) {
        return (Double) $(p);
    }

    InteractionColumns columns() {
        return new InteractionColumns($(userCol), $(itemCol), $(timestampCol), $(titleCol));
    }

    /** The declared features of both towers: the params, or the tutorial's preset on the key columns. */
    public TowerFeatures towerFeatures() {
        List<FeatureConfig> query = new ArrayList<>();
        List<FeatureConfig> candidate = new ArrayList<>();
        try {
            for (String f : $(queryFeatures)) {
                query.add(FeatureConfig.parse(f));
            }
            for (String f : $(candidateFeatures)) {
                candidate.add(FeatureConfig.parse(f));
            }
            if (query.isEmpty()) {
                query.add(FeatureConfig.categorical("user", $(userCol)));
                if (!$(timestampCol).isEmpty()) {
                    query.add(FeatureConfig.timestamp("timestamp", $(timestampCol), intOf(timestampBuckets)));
                }
            }
            if (candidate.isEmpty()) {
                candidate.addAll($(titleCol).isEmpty() ? List.of(FeatureConfig.categorical("item", $(itemCol)))
                        : List.of(FeatureConfig.categorical("title", $(titleCol)),
                        FeatureConfig.text("title_token", $(titleCol), intOf(maxTokens))));
            }
            return new TowerFeatures(query, candidate);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("queryFeatures / candidateFeatures: " + e.getMessage(), e);
        }
    }

    /** The id dropout of the params: on the categorical query feature that reads userCol. */
    private IdDropout idDropout(TowerFeatures features) {
        double rate = doubleOf(idDropout);
        if (rate == 0) {
            return IdDropout.NONE;
        }
        return features.query().stream()
                .filter(f -> f.column().equals($(userCol)) && f.kind() == FeatureConfig.Kind.CATEGORICAL)
                .findFirst().map(f -> new IdDropout(f.name(), rate))
                .orElseThrow(() -> new IllegalArgumentException("idDropout " + rate + " needs a categorical query"
                        + " feature on userCol '" + $(userCol) + "'; queryFeatures has none"));
    }

    @Override
    public StructType transformSchema(StructType schema) {
        InteractionColumns cols = columns();
        cols.checkForFit(schema);
        TowerFeatures features = towerFeatures();
        idDropout(features); // a dropout without its feature fails before any work
        parsedLearningRateSchedule(); // as a malformed schedule
        if (!$(validationIndicatorCol).isEmpty()) {
            InteractionColumns.check(schema, $(validationIndicatorCol), "validationIndicatorCol", List.of(DataTypes.BooleanType));
        }
        if (intOf(earlyStoppingPatience) > 0 && Arrays.stream($(topK)).noneMatch(k -> k == intOf(earlyStoppingK))) {
            throw new IllegalArgumentException("earlyStoppingK " + intOf(earlyStoppingK) + " is not one of topK "
                    + Arrays.toString($(topK)));
        }
        for (FeatureConfig f : features.query()) {
            cols.checkFeature(schema, f, "queryFeatures");
        }
        for (FeatureConfig f : features.candidate()) {
            cols.checkFeature(schema, f, "candidateFeatures");
        }
        // What the fitted model adds (its default output columns), so that later Pipeline stages validate.
        StructType out = schema.add("queryEmbedding", DataTypes.createArrayType(DataTypes.FloatType, false), false);
        if (Arrays.asList(schema.fieldNames()).contains($(itemCol))) {
            out = out.add("score", DataTypes.FloatType, true);
        }
        if (!$(recommendationsCol).isEmpty()) {
            StructType hit = new StructType().add($(itemCol), schema.apply($(itemCol)).dataType(), false)
                    .add("score", DataTypes.FloatType, false);
            out = out.add($(recommendationsCol), DataTypes.createArrayType(hit, false), false);
        }
        return out;
    }

    /**
     * Fits the towers in the steps {@link #prepare} (key columns, vocabularies, the held-out split), {@link #train}
     * (with early stopping and its refit when asked) and, with validation rows and {@code rankingK > 0},
     * {@link #evaluate} (per-user ranking of the held-out rows). Every cache the steps make is released when it
     * returns, also on failure.
     */
    @Override
    public TwoTowerRetrievalModel fit(Dataset<?> dataset) {
        LOG.debug("Fitting {} with {}", uid, explainParams().replace('\n', ';'));
        try (PreparedInteractions data = prepare(dataset)) {
            TwoTowerRetrievalModel model = train(data);
            if (data.validating() && intOf(rankingK) > 0 && !data.heldOutRows().isEmpty()) {
                try {
                    model.setValidationRanking(evaluate(model, data));
                } catch (RuntimeException | Error e) {
                    model.release(); // the model is not returned: its executor state goes now
                    throw e;
                }
            }
            return model;
        }
    }

    /** Spark caches and executor-side held-out rows of one fit, released when it ends, also on failure. */
    private static final class FitCaches implements AutoCloseable {
        private final List<Dataset<?>> datasets = new ArrayList<>();
        private final List<AutoCloseable> others = new ArrayList<>();

        <T> Dataset<T> cache(Dataset<T> d) {
            datasets.add(d);
            return d.cache();
        }

        InteractionHistories keep(InteractionHistories histories) {
            others.add(histories::unpersist);
            return histories.persist();
        }

        HeldOutRows keep(HeldOutRows rows) {
            if (rows instanceof DistributedHeldOut d) {
                others.add(d::close);
            }
            return rows;
        }

        @Override
        public void close() {
            datasets.forEach(Dataset::unpersist);
            for (AutoCloseable c : others) {
                try {
                    c.close();
                } catch (Exception e) {
                    LOG.warn("Releasing held-out rows failed: {}", e.toString());
                }
            }
        }
    }

    /**
     * The first two steps of {@link #fit}: key columns, vocabularies and statistics, the candidates, then the
     * held-out split, encoded and cached (released by {@link PreparedInteractions#close()}).
     */
    public PreparedInteractions prepare(Dataset<?> dataset) {
        transformSchema(dataset.schema());
        FitCaches caches = new FitCaches();
        try {
            return prepare(dataset, caches);
        } catch (RuntimeException | Error e) {
            caches.close();
            throw e;
        }
    }

    private PreparedInteractions prepare(Dataset<?> input, FitCaches caches) {
        InteractionColumns cols = columns();
        TowerFeatures features = towerFeatures();
        InvalidRows.Handled handled = InvalidRows.handle(input, cols, features, $(handleInvalid));
        Dataset<Row> dataset = handled.rows();
        String indicator = $(validationIndicatorCol);
        Dataset<Row> ratings = caches.cache(cols.ratings(dataset, features, indicator));
        Dataset<Row> items = caches.cache(cols.items(dataset, features));
        checkOneRowPerItem(items, cols, features);
        FeaturePreprocessor preprocessor = new FeaturePreprocessor(features, cols.user(), cols.item());
        boolean validating = !indicator.isEmpty() || !$(validationSplit).equals("random") || doubleOf(validationFraction) > 0;
        FeatureSpec spec;
        CandidateCorpus corpus;
        InteractionSplits.Split split;
        List<FeatureConfig> histories = derivedHistories(features);
        InteractionHistories fromTraining = null;
        if (!histories.isEmpty()) {
            // Histories are read from the raw split, each side from the rows its leakage rule allows; the training
            // rows' per-instant lists serve the training side, the held-out side and the model's kept histories.
            InteractionSplits.Split raw = split(ratings);
            spec = preprocessor.fit($(preprocessOn).equals("all") ? ratings : raw.train(), items);
            corpus = EncodedRatings.corpus(spec, items, cols.label());
            int n = histories.stream().mapToInt(FeatureConfig::size).max().orElseThrow();
            List<String> names = histories.stream().map(FeatureConfig::name).toList();
            fromTraining = caches.keep(InteractionHistories.of(raw.train(), n));
            boolean profile = $(historyMode).equals("profile");
            Dataset<Row> train = profile ? InteractionHistories.profile(raw.train(), n, names)
                    : fromTraining.before(raw.train(), names);
            Dataset<Row> held = profile && !temporalHeldOut() ? fromTraining.latestFor(raw.test(), names)
                    : heldOutHistories(ratings, fromTraining).before(raw.test(), names);
            split = new InteractionSplits.Split(EncodedRatings.encode(dataset.sparkSession(), spec, corpus, train),
                    EncodedRatings.encode(dataset.sparkSession(), spec, corpus, held));
        } else if ($(preprocessOn).equals("all")) {
            // As the tutorial: vocabularies over every row, then the split of the encoded rows.
            spec = preprocessor.fit(ratings, items);
            corpus = EncodedRatings.corpus(spec, items, cols.label());
            split = split(EncodedRatings.encode(dataset.sparkSession(), spec, corpus, ratings));
        } else {
            // Vocabularies and statistics of the training rows only; candidates are still every item.
            InteractionSplits.Split raw = split(ratings);
            spec = preprocessor.fit(raw.train(), items);
            corpus = EncodedRatings.corpus(spec, items, cols.label());
            split = new InteractionSplits.Split(EncodedRatings.encode(dataset.sparkSession(), spec, corpus, raw.train()),
                    EncodedRatings.encode(dataset.sparkSession(), spec, corpus, raw.test()));
        }
        // Both sides are read several times (training, the validation metric, the ranking): encoded once.
        Dataset<Row> trainRows = caches.cache(split.train());
        Dataset<Row> heldOutRows = caches.cache(split.test());
        checkEnoughData(corpus.size(), trainRows, heldOutRows, validating);
        return new PreparedInteractions(cols, features, spec, corpus, trainRows, heldOutRows, validating, fromTraining,
                dataset.schema().apply(cols.user()).dataType(), dataset.schema().apply(cols.item()).dataType(),
                handled.skipped(), caches::close);
    }

    /**
     * Stops a fit that cannot learn or cannot be judged before it trains: fewer than two items (every in-batch
     * candidate would be the positive, so the loss has no gradient), no training rows, or a validation split that
     * holds out nothing (its curve would be zeros presented as accuracy). Each message names the setting to change.
     */
    private void checkEnoughData(int items, Dataset<Row> train, Dataset<Row> heldOut, boolean validating) {
        if (items < 2) {
            throw new IllegalArgumentException("itemCol '" + $(itemCol) + "': the data has " + items + " distinct item;"
                    + " retrieval ranks items against each other and needs at least 2");
        }
        if (train.isEmpty()) {
            throw new IllegalArgumentException("no training rows: " + splitSetting() + " holds out all "
                    + heldOut.count() + " rows");
        }
        if (validating && heldOut.isEmpty()) {
            throw new IllegalArgumentException("no validation rows: " + splitSetting() + " holds out none of the "
                    + train.count() + " rows; give more data, raise it, or turn validation off (validationFraction 0,"
                    + " no validationIndicatorCol)");
        }
    }

    /** The setting that decides which rows are held out, with its value, for error messages. */
    private String splitSetting() {
        if (!$(validationIndicatorCol).isEmpty()) {
            return "validationIndicatorCol '" + $(validationIndicatorCol) + "'";
        }
        return switch ($(validationSplit)) {
            case "lastN" -> "validationSplit lastN with validationLastN " + intOf(validationLastN);
            default -> "validationSplit " + $(validationSplit) + " with validationFraction " + doubleOf(validationFraction);
        };
    }

    /** The query features whose histories the pipeline builds from the interactions (declared on itemCol). */
    private List<FeatureConfig> derivedHistories(TowerFeatures features) {
        return features.query().stream().filter(f -> f.derivedHistory($(itemCol))).toList();
    }

    /**
     * The histories held-out interactions read, by the rows they may read (their own time bounds them in any case):
     * with the temporal split every row, since all of them before the query time have happened by then; with the
     * random and leave-last-N splits and a validation indicator, the training rows only, since the other held-out
     * rows are what is being predicted.
     */
    private InteractionHistories heldOutHistories(Dataset<Row> all, InteractionHistories fromTraining) {
        return temporalHeldOut() ? InteractionHistories.of(all, fromTraining.length()) : fromTraining;
    }

    /** Whether the held-out rows are the latest by time (the temporal split, no indicator column). */
    private boolean temporalHeldOut() {
        return $(validationIndicatorCol).isEmpty() && $(validationSplit).equals("temporal");
    }

    /** The model settings of these params. */
    private ModelConfig modelConfig(TowerFeatures features) {
        return new ModelConfig(intOf(embeddingDim), $(layerSizes), doubleOf(learningRate), doubleOf(initialAccumulator),
                doubleOf(epsilon), (Long) $(seed), parsedLearningRateSchedule(), new RetrievalObjective(doubleOf(temperature),
                (Boolean) $(removeAccidentalHits), (Boolean) $(logQCorrection), intOf(mixedNegatives)))
                .withIdDropout(idDropout(features));
    }

    /** {@code learningRateSchedule} as epoch → rate; an entry that is not epoch:rate is an error naming it. */
    private NavigableMap<Integer, Double> parsedLearningRateSchedule() {
        TreeMap<Integer, Double> schedule = new TreeMap<>();
        for (String entry : $(learningRateSchedule)) {
            String[] parts = entry.split(":");
            int epoch;
            double rate;
            try {
                if (parts.length != 2) {
                    throw new NumberFormatException();
                }
                epoch = Integer.parseInt(parts[0].strip());
                rate = Double.parseDouble(parts[1].strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("learningRateSchedule: '" + entry + "' is not epoch:rate (e.g. 100:0.05)");
            }
            if (epoch < 1 || !(rate > 0) || Double.isInfinite(rate)) {
                throw new IllegalArgumentException("learningRateSchedule: '" + entry + "' needs an epoch >= 1 and a"
                        + " finite rate > 0");
            }
            if (schedule.put(epoch, rate) != null) {
                throw new IllegalArgumentException("learningRateSchedule: epoch " + epoch + " is given twice");
            }
        }
        return schedule;
    }

    /**
     * The third step of {@link #fit}: trains the towers on prepared rows (from {@link #prepare} with these params),
     * with early stopping on a slice of the training rows and the refit on all of them when the params ask for it.
     * The model carries the validation curve, the stopping curve and, with a history feature, each training user's
     * latest items; not the per-user ranking, which is {@link #evaluate}'s. The caches this step makes (the stopping
     * split, the held-out rows in their scoring form) are released when it returns.
     */
    public TwoTowerRetrievalModel train(PreparedInteractions data) {
        try (FitCaches caches = new FitCaches()) {
            return train(data, caches);
        }
    }

    private TwoTowerRetrievalModel train(PreparedInteractions data, FitCaches caches) {
        FeatureSpec spec = data.spec();
        CandidateCorpus corpus = data.corpus();
        boolean validating = data.validating();
        DistributedOptions distributed = intOf(numWorkers) == 0 ? null : new DistributedOptions(intOf(numWorkers),
                intOf(batchSize), intOf(averagingFrequency), (Boolean) $(repartition), $(storageLevel), intOf(nativeThreads));
        HeldOutRows validation = caches.keep(heldOut(validating ? data.heldOutRows() : null, spec, distributed));
        if (validating) {
            LOG.info("Validation: {}, {} rows held out", $(validationIndicatorCol).isEmpty() ? $(validationSplit) + " split"
                    : "rows marked by " + $(validationIndicatorCol), validation.size());
        }
        ModelConfig config = modelConfig(data.features());
        // As the sweep: ND4J's own op threads on top of the step's slice threads oversubscribe the cores (measured:
        // ML-100k [64, 32] at ~25k examples/s with ND4J's default against ~100k in the sweep).
        NativeThreads.apply(intOf(nativeThreads));
        int threads = StepThreads.resolve(intOf(stepThreads), intOf(numWorkers) > 0, data.trainRows().sparkSession());
        if (distributed == null) {
            LOG.info("Training {} in the driver JVM: batch {} split over {} step thread(s)", Arrays.toString($(layerSizes)),
                    intOf(batchSize), threads);
        }
        int patience = intOf(earlyStoppingPatience);
        // Without a validation set or early stopping the trainers still evaluate after the last epoch (on no rows);
        // evaluating only then keeps that to one cheap pass, and its point is dropped below.
        int every = validating || patience > 0 ? intOf(evalEvery) : intOf(maxEpochs);
        TrainingOptions training = new TrainingOptions(intOf(batchSize), intOf(maxEpochs), every, (Long) $(seed), threads);
        String label = Arrays.toString($(layerSizes));
        ConsoleProgress progress = new ConsoleProgress(label, validation.size() > 0);
        FactorizedTopK metric = new FactorizedTopK($(topK));
        Dataset<Row> train = data.trainRows();
        Dataset<Row> fitRows = train;
        EarlyStopping stopping = null;
        Dataset<Row> sliceRows = null;
        if (patience > 0) {
            InteractionSplits.Split inner = stoppingSplit(train);
            fitRows = caches.cache(inner.train());
            // Read by the emptiness check, the slice's scoring rows and its per-user ranking: split once.
            sliceRows = caches.cache(inner.test());
            if (fitRows.isEmpty() || sliceRows.isEmpty()) {
                throw new IllegalArgumentException("early stopping: earlyStoppingFraction " + doubleOf(earlyStoppingFraction)
                        + " of the " + train.count() + " training rows leaves " + (fitRows.isEmpty() ? "no rows to train"
                        : "an empty stopping slice") + "; give more data, change it, or set earlyStoppingPatience 0");
            }
            HeldOutRows slice = caches.keep(heldOut(sliceRows, spec, distributed));
            LOG.info("Early stopping: {} training rows held out as the stopping slice, patience {} evaluations of top-{}",
                    slice.size(), patience, intOf(earlyStoppingK));
            stopping = new EarlyStopping(patience, intOf(earlyStoppingK), slice, corpus, metric);
        }
        CheckpointedTraining.Result run = train(config, spec, corpus, fitRows, validation, training, distributed,
                metric, checkpointFile(data, config, patience > 0 ? "stopping" : ""), progress, label, stopping);
        int bestEpoch = stopping == null ? 0 : stopping.bestEpoch();
        List<CurvePoint> stoppingCurve = stopping == null ? List.of() : stopping.history();
        RankingMetrics.Result stoppingRanking = stopping != null && intOf(rankingK) > 0
                ? stoppingRanking(data, run.model(), fitRows, sliceRows) : null;
        if (stopping != null && (Boolean) $(refitAfterStopping)) {
            fitRows.unpersist();
            LOG.info("Refitting on all {} training rows for the best epoch count, {}", train.count(), bestEpoch);
            TrainingOptions refit = new TrainingOptions(intOf(batchSize), bestEpoch,
                    validating ? Math.min(intOf(evalEvery), bestEpoch) : bestEpoch, (Long) $(seed), threads);
            run = train(config, spec, corpus, train, validation, refit, distributed, metric,
                    checkpointFile(data, config, "refit" + bestEpoch), progress, label + " refit", null);
        }
        TwoTowerRetrievalModel result = model(data, run.model(), validating ? run.curve() : List.of());
        result.setParent(this);
        result.setColdStartStrategy($(coldStartStrategy)).setRecommendationsCol($(recommendationsCol))
                .setRecommendationsK(intOf(recommendationsK));
        result.setEarlyStopping(stoppingCurve, bestEpoch, stoppingRanking);
        result.setSkippedRows(data.skippedRows());
        if (!spec.derivedHistories().isEmpty()) {
            result.setUserHistories(keptHistories(data.trainingHistories()));
        }
        return result;
    }

    /** The Spark ML model of trained towers: their serving state (no optimizer state) and item embeddings. */
    private TwoTowerRetrievalModel model(PreparedInteractions data, TwoTowerModel towers, List<CurvePoint> curve) {
        float[] itemEmbeddings;
        try (INDArray embeddings = towers.candidateEmbeddings(data.corpus())) {
            itemEmbeddings = NdArrays.floats(embeddings);
        }
        return new TwoTowerRetrievalModel(uid, data.columns(), data.spec(), data.corpus(), modelConfig(data.features()),
                ModelState.of(towers).servingOnly(), // a fitted model serves; checkpoints keep the optimizer state
                itemEmbeddings, curve, data.userType(), data.itemType());
    }

    /**
     * Per-user recall@K and NDCG@K ({@code rankingK}) on the stopping slice of the towers early stopping kept (the
     * best epoch's, trained without the slice), each user's other training items left out and histories read from
     * those rows only: a per-user figure to choose settings by without touching the validation rows.
     */
    private RankingMetrics.Result stoppingRanking(PreparedInteractions data, TwoTowerModel best, Dataset<Row> fitRows,
                                                  Dataset<Row> slice) {
        TwoTowerRetrievalModel atBest = model(data, best, List.of());
        try {
            if (!data.spec().derivedHistories().isEmpty()) {
                atBest.setUserHistories(latestPerUser(InteractionHistories.of(fitRows, data.trainingHistories().length())));
            }
            return ranking(atBest, data.columns(), fitRows, slice, "Stopping-slice ranking");
        } finally {
            atBest.release();
        }
    }

    /**
     * Rows held out for scoring: with {@code numWorkers >= 1} they stay on the executors and are scored there (the
     * driver never collects them); otherwise they are brought to the driver. Null: none.
     */
    private static HeldOutRows heldOut(Dataset<Row> rows, FeatureSpec spec, DistributedOptions distributed) {
        if (rows == null) {
            return HeldOutRows.inMemory(Interactions.none(spec));
        }
        return distributed == null ? HeldOutRows.inMemory(EncodedRatings.collect(rows, spec))
                : new DistributedHeldOut(rows, spec, distributed.workers(), distributed.nativeThreads());
    }

    /** One training run; a numeric fault or an unusable checkpoint folder is an error naming it. */
    private CheckpointedTraining.Result train(ModelConfig config, FeatureSpec spec, CandidateCorpus corpus,
                                              Dataset<Row> rows, HeldOutRows validation, TrainingOptions training,
                                              DistributedOptions distributed, FactorizedTopK metric,
                                              Path checkpoint, ConsoleProgress progress, String label,
                                              EarlyStopping stopping) {
        CheckpointedTraining.Result run;
        try {
            run = CheckpointedTraining.run(config, spec, corpus, () -> EncodedRatings.collect(rows, spec), rows,
                    validation, training, distributed, metric, checkpoint, progress, label, stopping);
        } catch (IOException e) {
            throw new UncheckedIOException("checkpointDir '" + $(checkpointDir) + "': " + e.getMessage(), e);
        }
        if (!run.completed()) {
            throw new TrainingStoppedException("training stopped: " + run.failure()
                    + (checkpoint == null ? "" : "; the last good checkpoint is " + checkpoint), run.curve());
        }
        return run;
    }

    /** The stopping slice of the (encoded) training rows, held out the way {@code validationSplit} holds out its own. */
    private InteractionSplits.Split stoppingSplit(Dataset<Row> train) {
        return InteractionSplits.KEYS.holdOut($(validationSplit), train, stoppingSeed((Long) $(seed)),
                doubleOf(earlyStoppingFraction), intOf(validationLastN));
    }

    /** The random stopping slice's seed: another than the validation split's, so it is a fresh draw of the training rows. */
    public static long stoppingSeed(long seed) {
        return seed + 1;
    }

    /** Whether Spark knows {@code name} as a storage level. */
    private static boolean isStorageLevel(String name) {
        try {
            StorageLevel.fromString(name);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** The validation split of rows with the key columns ({@link KeyColumns}; a zero random fraction keeps every row). */
    private InteractionSplits.Split split(Dataset<Row> rows) {
        String indicator = $(validationIndicatorCol);
        if (!indicator.isEmpty()) {
            long nulls = rows.filter(col(indicator).isNull()).count();
            if (nulls > 0) {
                throw new IllegalArgumentException("validationIndicatorCol: column '" + indicator + "' is null in "
                        + nulls + " rows; each row must say whether it is a validation row");
            }
            return new InteractionSplits.Split(rows.filter(not(col(indicator))).drop(indicator),
                    rows.filter(col(indicator)).drop(indicator));
        }
        if ($(validationSplit).equals("temporal") && !(doubleOf(validationFraction) > 0)) {
            throw new IllegalArgumentException("validationSplit temporal needs a validationFraction > 0");
        }
        return InteractionSplits.KEYS.holdOut($(validationSplit), rows, (Long) $(seed), doubleOf(validationFraction),
                intOf(validationLastN));
    }

    /**
     * The checkpoint of these settings under {@code checkpointDir} (null without one); a spec mismatch is an error.
     * Its name carries a digest of every setting that shapes training (model, objective, batch, workers, split,
     * early stopping) and of the prepared rows themselves (which rows train and which are held out, so another
     * validation indicator or changed data starts afresh too), so a fit with other settings or rows starts afresh
     * instead of resuming a different run; more {@code maxEpochs} or another {@code evalEvery} continue the same
     * run. The refit's phase names its epoch count.
     */
    private Path checkpointFile(PreparedInteractions data, ModelConfig config, String phase) {
        if ($(checkpointDir).isEmpty()) {
            return null;
        }
        FeatureSpec spec = data.spec();
        try {
            Path dir = Path.of($(checkpointDir));
            Files.createDirectories(dir);
            Path specFile = dir.resolve("feature-spec.json");
            if (Files.exists(specFile) && !FeatureSpec.read(specFile).toJson().equals(spec.toJson())) {
                throw new IllegalArgumentException("checkpointDir '" + dir + "' holds a checkpoint of other data or"
                        + " features (" + specFile + " differs); use another folder to start afresh");
            }
            spec.write(specFile);
            String settings = config + " batch=" + $(batchSize) + " workers=" + $(numWorkers) + " averaging="
                    + $(averagingFrequency) + " split="
                    + $(validationSplit) + "/" + $(validationFraction) + "/" + $(validationLastN) + " stopping="
                    + $(earlyStoppingPatience) + "/" + $(earlyStoppingFraction) + "/" + $(earlyStoppingK)
                    + " indicator=" + $(validationIndicatorCol) + " topK=" + Arrays.toString($(topK))
                    + " schedule=" + parsedLearningRateSchedule() + " storage=" + $(storageLevel) + "/" + $(repartition)
                    + " train=" + fingerprint(data.trainRows()) + " heldOut=" + fingerprint(data.heldOutRows());
            String digest = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(settings.getBytes(StandardCharsets.UTF_8))).substring(0, 12);
            return dir.resolve(ModelConfig.label($(layerSizes)) + "-seed" + $(seed) + "-" + digest
                    + (phase.isEmpty() ? "" : "-" + phase) + ".ckpt");
        } catch (IOException e) {
            throw new UncheckedIOException("checkpointDir '" + $(checkpointDir) + "': " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /**
     * A fingerprint of a set of rows that does not depend on their order or partitioning: the count and the sum of
     * each row's 64-bit hash of every column (summed as a decimal, so it cannot overflow).
     */
    static String fingerprint(Dataset<Row> rows) {
        Column hash = xxhash64(Arrays.stream(rows.columns()).map(functions::col).toArray(Column[]::new));
        Row r = rows.agg(count("*"), sum(hash.cast(DataTypes.createDecimalType(38, 0)))).first();
        return r.getLong(0) + "/" + (r.isNullAt(1) ? "0" : r.getDecimal(1).toPlainString());
    }

    /**
     * Each training user's latest items for the model to keep, computed on the executors and persisted before the
     * fit's caches go (Spark's cleaner frees them with the model).
     */
    private static Dataset<Row> keptHistories(InteractionHistories fromTraining) {
        Dataset<Row> kept = latestPerUser(fromTraining).persist(StorageLevel.MEMORY_AND_DISK());
        LOG.info("Kept the latest {} training items of {} users for the history features", fromTraining.length(),
                kept.count());
        return kept;
    }

    /** Each user's latest items in the model's kept-histories columns ({@code KEPT_USER}, {@code KEPT_HISTORY}). */
    private static Dataset<Row> latestPerUser(InteractionHistories histories) {
        return histories.latest(TwoTowerRetrievalModel.KEPT_HISTORY)
                .withColumnRenamed(KeyColumns.USER, TwoTowerRetrievalModel.KEPT_USER);
    }

    /**
     * The last step of {@link #fit}: per-user recall@K and NDCG@K ({@code rankingK}) of {@code model} on the prepared
     * held-out rows, over the whole catalogue with each user's training items left out, logged. A user with
     * validation rows whom the model cannot score counts with an empty list. A history feature reads the user's
     * latest training items (the model's kept histories), as {@code recommendForAllUsers} does.
     *
     * @throws IllegalArgumentException when {@code rankingK} is 0 or nothing was held out
     */
    public RankingMetrics.Result evaluate(TwoTowerRetrievalModel model, PreparedInteractions data) {
        int k = intOf(rankingK);
        if (k <= 0 || !data.validating() || data.heldOutRows().isEmpty()) {
            throw new IllegalArgumentException("evaluate needs rankingK > 0 (is " + k + ") and held-out rows"
                    + " (validationFraction, validationSplit or validationIndicatorCol)");
        }
        return ranking(model, data.columns(), data.trainRows(), data.heldOutRows(), "Validation ranking");
    }

    /** Per-user recall@K and NDCG@K of {@code held}, the items of {@code train} left out, logged under {@code what}. */
    private RankingMetrics.Result ranking(TwoTowerRetrievalModel model, InteractionColumns cols, Dataset<Row> train,
                                          Dataset<Row> held, String what) {
        int k = intOf(rankingK);
        List<Column> query = new ArrayList<>(List.of(col(KeyColumns.USER).as(cols.user())));
        List<String> histories = model.derivedHistoryColumns();
        for (String c : model.featureSpec().queryColumns()) {
            if (!c.equals(cols.user()) && !c.equals(cols.timestamp()) && !c.equals(KeyColumns.USER)
                    && !histories.contains(c)) {
                query.add(col(c));
            }
        }
        Dataset<Row> users = held.select(query.toArray(Column[]::new));
        Dataset<Row> seen = train.select(col(KeyColumns.USER).as(cols.user()), col(KeyColumns.ITEM).as(cols.item()));
        Dataset<Row> truth = held.select(col(KeyColumns.USER).as(cols.user()), col(KeyColumns.ITEM).as(cols.item()));
        RankingMetrics.Result r = new RankingMetrics(cols.user(), cols.item())
                .evaluate(scorer(model).recommendForUserSubset(users, k, seen), truth, k);
        LOG.info("{} ({} users, training items left out): recall@{} {}, NDCG@{} {}", what,
                r.users(), k, String.format(Locale.ROOT, "%.4f", r.recallAtK()), k,
                String.format(Locale.ROOT, "%.4f", r.ndcgAtK()));
        return r;
    }

    /**
     * The model that scores the validation users: every one of them, whatever the model's coldStartStrategy (the
     * copy shares the model's broadcast).
     */
    private static TwoTowerRetrievalModel scorer(TwoTowerRetrievalModel model) {
        return model.copy(new ParamMap()).setColdStartStrategy("nan");
    }

    /** The generic path keys candidates by item id: an item with two values of a candidate feature is ambiguous. */
    private static void checkOneRowPerItem(Dataset<Row> items, InteractionColumns cols, TowerFeatures features) {
        List<Row> clashes = items.groupBy(KeyColumns.ITEM).agg(count("*").as("n"))
                .filter(col("n").gt(1)).orderBy(KeyColumns.ITEM).limit(3).collectAsList();
        if (!clashes.isEmpty()) {
            throw new IllegalArgumentException("itemCol '" + cols.item() + "': items " + clashes.stream()
                    .map(r -> "'" + r.getString(0) + "' (" + r.getLong(1) + " different rows)").toList()
                    + " have more than one value in the candidate feature columns "
                    + features.candidate().stream().map(FeatureConfig::column).distinct().toList()
                    + (cols.title().isEmpty() ? "" : " or titleCol '" + cols.title() + "'") + "; each item needs exactly one");
        }
    }

    @Override
    public TwoTowerRetrieval copy(ParamMap extra) {
        return (TwoTowerRetrieval) defaultCopy(extra);
    }

    public static MLReader<TwoTowerRetrieval> read() {
        return new DefaultParamsReader<>();
    }

    public static TwoTowerRetrieval load(String path) {
        return read().load(path);
    }
}
