package io.deepretrieval.spark.ml;

import io.deepretrieval.model.features.CandidateCorpus;
import io.deepretrieval.model.features.FeatureConfig;
import io.deepretrieval.model.features.TowerFeatures;
import io.deepretrieval.model.features.FeatureSpec;
import io.deepretrieval.model.features.Interactions;
import io.deepretrieval.model.metrics.FactorizedTopK;
import io.deepretrieval.model.towers.ModelConfig;
import io.deepretrieval.model.towers.TwoTowerModel;
import io.deepretrieval.model.train.CurvePoint;
import io.deepretrieval.model.train.LocalTrainer;
import io.deepretrieval.model.train.ModelState;
import io.deepretrieval.model.train.TrainingOptions;
import io.deepretrieval.spark.preprocess.EncodedRatings;
import io.deepretrieval.spark.preprocess.FeaturePreprocessor;
import io.deepretrieval.spark.sweep.ConsoleProgress;
import io.deepretrieval.spark.train.DistributedOptions;
import io.deepretrieval.spark.train.ParameterAveraging;
import io.deepretrieval.spark.train.StepThreads;
import org.apache.spark.ml.Estimator;
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
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Arrays;
import java.util.List;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;

/**
 * Two-tower retrieval as a Spark ML {@link Estimator}, in the form of MLlib's {@code ALS}: typed params with
 * defaults and validators, {@code fit} on an interactions DataFrame, a {@link TwoTowerRetrievalModel} that
 * recommends. The towers are built from declared features ({@code queryFeatures}, {@code candidateFeatures});
 * by default the tutorial's: query = user id + time (buckets and normalised), candidate = item title (categorical)
 * + its title tokens. Candidates are keyed by the item column.
 */
public final class TwoTowerRetrieval extends Estimator<TwoTowerRetrievalModel> implements DefaultParamsWritable {
    private static final Logger LOG = LoggerFactory.getLogger(TwoTowerRetrieval.class);
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
    private final StringArrayParam candidateFeatures;

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
                (scala.Function1<int[], Object> & java.io.Serializable) sizes -> sizes.length > 0
                        && java.util.Arrays.stream(sizes).allMatch(v -> v >= 1 && v <= ModelConfig.MAX_LAYER_SIZE));
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
        timestampBuckets = new IntParam(this, "timestampBuckets", "time bucket boundaries", ParamValidators.gtEq(2));
        maxTokens = new IntParam(this, "maxTokens", "title-token vocabulary, padding and [UNK] included",
                ParamValidators.gtEq(3));
        validationFraction = new DoubleParam(this, "validationFraction",
                "share of interactions held out to log a top-K curve (0: none)", ParamValidators.inRange(0, 0.5, true, false));
        evalEvery = new IntParam(this, "evalEvery", "epochs between validation points", ParamValidators.gtEq(1));
        queryFeatures = new StringArrayParam(this, "queryFeatures", "the query tower's features, each"
                + " [name=]column:kind[:size] with kind categorical, text, numeric or timestamp, read from the interactions;"
                + " empty: the tutorial's, userCol (categorical) and timestampCol (timestamp with timestampBuckets)");
        candidateFeatures = new StringArrayParam(this, "candidateFeatures", "the candidate tower's features, as"
                + " queryFeatures, with one value per item; empty: the tutorial's, titleCol (categorical) and its tokens"
                + " (text with maxTokens), or itemCol (categorical) without a titleCol");
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
    public IntParam maxTokens() { return maxTokens; }
    public DoubleParam validationFraction() { return validationFraction; }
    public IntParam evalEvery() { return evalEvery; }
    public StringArrayParam queryFeatures() { return queryFeatures; }
    public StringArrayParam candidateFeatures() { return candidateFeatures; }

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
    public TwoTowerRetrieval setCandidateFeatures(String... v) { set(candidateFeatures, v.clone()); return this; }

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
        List<FeatureConfig> query = new java.util.ArrayList<>();
        List<FeatureConfig> candidate = new java.util.ArrayList<>();
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

    @Override
    public StructType transformSchema(StructType schema) {
        InteractionColumns cols = columns();
        cols.checkForFit(schema);
        TowerFeatures features = towerFeatures();
        for (FeatureConfig f : features.query()) {
            cols.checkFeature(schema, f, "queryFeatures");
        }
        for (FeatureConfig f : features.candidate()) {
            cols.checkFeature(schema, f, "candidateFeatures");
        }
        return schema;
    }

    @Override
    public TwoTowerRetrievalModel fit(Dataset<?> dataset) {
        transformSchema(dataset.schema());
        LOG.info("Fitting {} with {}", uid, explainParams().replace('\n', ';'));
        InteractionColumns cols = columns();
        TowerFeatures features = towerFeatures();
        Dataset<Row> ratings = cols.ratings(dataset, features).cache();
        Dataset<Row> items = cols.items(dataset, features).cache();
        checkOneRowPerItem(items, cols, features);

        FeatureSpec spec = new FeaturePreprocessor(features, cols.user(), cols.item()).fit(ratings, items);
        CandidateCorpus corpus = EncodedRatings.corpus(spec, items, cols.label());
        Dataset<Row> encoded = EncodedRatings.encode(dataset.sparkSession(), spec, corpus, ratings);
        // The seeded, partitioning-independent order of the sweep's split; a zero fraction keeps every row.
        EncodedRatings.Split split = EncodedRatings.split(encoded, ((Long) $(seed)), doubleOf(validationFraction));
        Dataset<Row> train = split.train().cache();
        Interactions validation = doubleOf(validationFraction) > 0 ? EncodedRatings.collect(split.test(), spec) : null;

        ModelConfig config = new ModelConfig(intOf(embeddingDim), $(layerSizes), doubleOf(learningRate), doubleOf(initialAccumulator),
                doubleOf(epsilon), ((Long) $(seed)));
        TwoTowerModel model = new TwoTowerModel(config, spec);
        // As the sweep: ND4J's own op threads on top of the step's slice threads oversubscribe the cores (measured:
        // ML-100k [64, 32] at ~25k examples/s with ND4J's default against ~100k in the sweep).
        io.deepretrieval.model.io.NativeThreads.apply(intOf(nativeThreads));
        int threads = StepThreads.resolve(intOf(stepThreads), intOf(numWorkers) > 0, dataset.sparkSession());
        // Without a validation set the trainers still evaluate after the last epoch (on no rows); evaluating only
        // then keeps that to one cheap pass, and its point is dropped below.
        int every = validation == null ? intOf(maxEpochs) : intOf(evalEvery);
        TrainingOptions training = new TrainingOptions(intOf(batchSize), intOf(maxEpochs), every, ((Long) $(seed)), threads);
        Interactions none = Interactions.none(spec);
        ConsoleProgress progress = new ConsoleProgress(Arrays.toString($(layerSizes)));
        List<CurvePoint> curve;
        if (intOf(numWorkers) == 0) {
            curve = new LocalTrainer(training, FactorizedTopK.tutorial(), progress)
                    .fit(model, corpus, EncodedRatings.collect(train, spec), validation == null ? none : validation);
        } else {
            DistributedOptions options = new DistributedOptions(intOf(numWorkers), intOf(batchSize), intOf(averagingFrequency),
                    true, "MEMORY_ONLY", intOf(nativeThreads));
            curve = new ParameterAveraging(options, training, FactorizedTopK.tutorial(), progress)
                    .fit(model, spec, corpus, train, validation == null ? none : validation);
        }
        train.unpersist();
        ratings.unpersist();
        items.unpersist();
        if (validation == null) {
            curve = List.of();
        }
        TwoTowerRetrievalModel fitted = new TwoTowerRetrievalModel(uid, cols, spec, corpus, config, ModelState.of(model),
                io.deepretrieval.model.io.NdArrays.floats(model.candidateEmbeddings(corpus)), curve, dataset.schema().apply(cols.user()).dataType(), dataset.schema().apply(cols.item()).dataType());
        fitted.setParent(this);
        return fitted;
    }

    /** The generic path keys candidates by item id: an item with two values of a candidate feature is ambiguous. */
    private static void checkOneRowPerItem(Dataset<Row> items, InteractionColumns cols, TowerFeatures features) {
        List<Row> clashes = items.groupBy("movie_id").agg(count("*").as("n"))
                .filter(col("n").gt(1)).orderBy("movie_id").limit(3).collectAsList();
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
