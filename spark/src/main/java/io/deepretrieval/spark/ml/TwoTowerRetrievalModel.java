package io.deepretrieval.spark.ml;

import io.deepretrieval.model.retrieval.TopK;
import io.deepretrieval.spark.preprocess.RowValues;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.deepretrieval.model.features.CandidateCorpus;
import io.deepretrieval.model.features.FeatureSpec;
import io.deepretrieval.model.features.FittedFeature;
import io.deepretrieval.model.serving.ServingModel;
import io.deepretrieval.model.towers.ModelConfig;
import io.deepretrieval.model.train.CurvePoint;
import io.deepretrieval.model.train.ModelState;
import io.deepretrieval.spark.eval.RankingMetrics;
import io.deepretrieval.spark.preprocess.OneRowPerUser;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Predicate;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;

/**
 * A fitted {@link TwoTowerRetrieval}: query embeddings and scores as columns ({@link #transform}), item embeddings,
 * and top-k recommendations with ALS's output schema ({@link #recommendForAllUsers}), computed on the executors
 * against a broadcast candidate matrix. Saved and loaded on any Hadoop path ({@link TwoTowerRetrievalWriter}).
 */
public final class TwoTowerRetrievalModel extends Model<TwoTowerRetrievalModel> implements MLWritable {
    /** The user column of {@link #userHistories()}: the user id as a string. */
    public static final String KEPT_USER = "user";
    /** The history column of {@link #userHistories()}: item ids, oldest first. */
    public static final String KEPT_HISTORY = "history";
    /** Queries per block on an executor: one GEMM against all candidates each. */
    static final int QUERY_BLOCK = 1024;
    private final String uid;
    private final Param<String> userCol;
    private final Param<String> itemCol;
    private final Param<String> timestampCol;
    private final Param<String> titleCol;
    private final Param<String> queryEmbeddingCol;
    private final Param<String> scoreCol;
    private final Param<String> coldStartStrategy;
    private final Param<String> recommendationsCol;
    private final IntParam recommendationsK;

    private final FeatureSpec spec;
    private final CandidateCorpus corpus;
    private final ModelConfig config;
    private final ModelState parameters;
    private final List<CurvePoint> validationCurve;
    private final DataType userType;
    private final DataType itemType;
    private final float[] itemEmbeddings;
    /**
     * The towers' broadcast, one holder shared by this model and its copies, so that {@link #release()} covers all;
     * made on first use (a transient field is null after deserialization).
     */
    private transient SharedBroadcast broadcast;
    /** Per known user, the latest training items ({@link #KEPT_USER}, {@link #KEPT_HISTORY}); null without histories. */
    private Dataset<Row> userHistories;
    private RankingMetrics.Result validationRanking;
    private List<CurvePoint> stoppingCurve = List.of();
    private int stoppingBestEpoch;
    private RankingMetrics.Result stoppingRanking;
    private SkippedRows skippedRows;

    TwoTowerRetrievalModel(String uid, InteractionColumns cols, FeatureSpec spec, CandidateCorpus corpus,
                           ModelConfig config, ModelState parameters, float[] itemEmbeddings,
                           List<CurvePoint> validationCurve, DataType userType, DataType itemType) {
        this.uid = uid;
        userCol = new Param<>(this, "userCol", "column of user ids");
        itemCol = new Param<>(this, "itemCol", "column of item ids");
        timestampCol = new Param<>(this, "timestampCol", "column of query times in seconds; empty: none");
        titleCol = new Param<>(this, "titleCol", "column of item titles the model was fitted with");
        queryEmbeddingCol = new Param<>(this, "queryEmbeddingCol", "output column of query embeddings");
        scoreCol = new Param<>(this, "scoreCol", "output column of user-item scores (when itemCol is present)");
        coldStartStrategy = new Param<>(this, "coldStartStrategy", TwoTowerRetrieval.COLD_START_DOC,
                ParamValidators.inArray(TwoTowerRetrieval.COLD_START_STRATEGIES));
        recommendationsCol = new Param<>(this, "recommendationsCol", RECOMMENDATIONS_COL_DOC);
        recommendationsK = new IntParam(this, "recommendationsK", RECOMMENDATIONS_K_DOC, ParamValidators.gtEq(1));
        setDefault(coldStartStrategy, "nan");
        setDefault(recommendationsCol, "");
        setDefault(recommendationsK, 10);
        setDefault(queryEmbeddingCol, "queryEmbedding");
        setDefault(scoreCol, "score");
        set(userCol, cols.user());
        set(itemCol, cols.item());
        set(timestampCol, cols.timestamp());
        set(titleCol, cols.title());
        this.spec = spec;
        this.corpus = corpus;
        this.config = config;
        this.parameters = parameters;
        this.validationCurve = List.copyOf(validationCurve);
        this.userType = userType;
        this.itemType = itemType;
        this.itemEmbeddings = itemEmbeddings;
    }

    @Override
    public String uid() {
        return uid;
    }

    public Param<String> userCol() { return userCol; }
    public Param<String> itemCol() { return itemCol; }
    public Param<String> timestampCol() { return timestampCol; }
    public Param<String> titleCol() { return titleCol; }
    public Param<String> queryEmbeddingCol() { return queryEmbeddingCol; }
    public Param<String> scoreCol() { return scoreCol; }
    public Param<String> coldStartStrategy() { return coldStartStrategy; }
    public Param<String> recommendationsCol() { return recommendationsCol; }
    public IntParam recommendationsK() { return recommendationsK; }

    public TwoTowerRetrievalModel setUserCol(String v) { set(userCol, v); return this; }
    public TwoTowerRetrievalModel setItemCol(String v) { set(itemCol, v); return this; }
    public TwoTowerRetrievalModel setTimestampCol(String v) { set(timestampCol, v); return this; }
    public TwoTowerRetrievalModel setQueryEmbeddingCol(String v) { set(queryEmbeddingCol, v); return this; }
    public TwoTowerRetrievalModel setScoreCol(String v) { set(scoreCol, v); return this; }
    public TwoTowerRetrievalModel setColdStartStrategy(String v) { set(coldStartStrategy, v); return this; }
    public TwoTowerRetrievalModel setRecommendationsCol(String v) { set(recommendationsCol, v); return this; }
    public TwoTowerRetrievalModel setRecommendationsK(int v) { set(recommendationsK, v); return this; }

    /** The doc of {@code recommendationsCol}, shared with the Estimator's. */
    static final String RECOMMENDATIONS_COL_DOC = "output column of each row's recommendationsK best items (array of"
            + " struct<itemCol, score>, best first, over every candidate), for evaluators such as RetrievalEvaluator;"
            + " empty: none";
    /** The doc of {@code recommendationsK}, shared with the Estimator's. */
    static final String RECOMMENDATIONS_K_DOC = "items per row in recommendationsCol (>= 1)";

    InteractionColumns columns() {
        return new InteractionColumns($(userCol), $(itemCol), $(timestampCol), $(titleCol));
    }

    FeatureSpec spec() { return spec; }

    /** The fitted preprocessing: every feature's vocabulary, buckets and statistics, as training and serving read it. */
    public FeatureSpec featureSpec() { return spec; }
    CandidateCorpus corpus() { return corpus; }
    ModelConfig config() { return config; }
    ModelState parameters() { return parameters; }
    DataType userType() { return userType; }
    DataType itemType() { return itemType; }

    /** Top-K accuracy on the validation rows, when the estimator held some out (empty otherwise and after a load). */
    public List<CurvePoint> validationCurve() {
        return validationCurve;
    }

    /**
     * Per-user recall@K and NDCG@K (and precision, MAP) on the validation rows, each user's training items left out;
     * null without validation rows and after a load.
     */
    public RankingMetrics.Result validationRanking() {
        return validationRanking;
    }

    void setValidationRanking(RankingMetrics.Result r) {
        this.validationRanking = r;
    }

    /**
     * The stopping slice's top-K curve of the fit (empty without early stopping); like {@link #validationRanking()}
     * a record of the fit, not saved with the model.
     */
    public List<CurvePoint> earlyStoppingCurve() {
        return stoppingCurve;
    }

    /** The epoch early stopping chose (0 without early stopping): the refit's epoch count, or the kept state's. */
    public int earlyStoppingBestEpoch() {
        return stoppingBestEpoch;
    }

    /**
     * Per-user recall@K and NDCG@K ({@code rankingK}) on the early-stopping slice of the best epoch's towers,
     * trained without the slice (each user's other training items left out): the per-user figure to choose
     * settings by without the validation rows. Null without early stopping or with {@code rankingK} 0, and after a
     * load.
     */
    public RankingMetrics.Result earlyStoppingRanking() {
        return stoppingRanking;
    }

    /**
     * The input rows {@code handleInvalid skip} left out of the fit, with the count per column; saved with the
     * model. Null for a model saved before it was recorded.
     */
    public SkippedRows skippedRows() {
        return skippedRows;
    }

    void setSkippedRows(SkippedRows skipped) {
        this.skippedRows = skipped;
    }

    void setEarlyStopping(List<CurvePoint> curve, int bestEpoch, RankingMetrics.Result ranking) {
        this.stoppingCurve = List.copyOf(curve);
        this.stoppingBestEpoch = bestEpoch;
        this.stoppingRanking = ranking;
    }

    /**
     * Each known user's latest training items (at most the longest history feature's length, oldest first): the
     * history {@code recommendForAllUsers}, {@code transform} and {@code recommendForUserSubset} read for a user
     * whose rows carry no history column, as ALS keeps its user factors. Columns {@value #KEPT_USER} (string) and
     * {@value #KEPT_HISTORY} (array of item ids); null when the query tower has no history built from the
     * interactions. Saved with the model: one row per training user, at most N ids each.
     */
    public Dataset<Row> userHistories() {
        return userHistories;
    }

    void setUserHistories(Dataset<Row> histories) {
        this.userHistories = histories;
    }

    /** The names of the history features built from the interactions (each read from a column of that name). */
    List<String> derivedHistoryColumns() {
        return spec.derivedHistories().stream().map(FittedFeature::name).toList();
    }

    /**
     * {@code rows} with each history column it lacks filled from {@link #userHistories()} by its user: the user's
     * latest training items, or none for a user the model has not seen (an empty history, embedded as zeros).
     */
    Dataset<Row> withKeptHistories(Dataset<Row> rows) {
        List<String> names = Arrays.asList(rows.columns());
        List<String> missing = derivedHistoryColumns().stream().filter(c -> !names.contains(c)).toList();
        if (missing.isEmpty()) {
            return rows;
        }
        InteractionColumns.check(rows.schema(), $(userCol), "userCol", List.of(userType, DataTypes.StringType));
        Dataset<Row> kept = userHistories != null ? userHistories : rows.sparkSession().createDataFrame(List.of(),
                new StructType().add(KEPT_USER, DataTypes.StringType).add(KEPT_HISTORY,
                        DataTypes.createArrayType(DataTypes.StringType)));
        Dataset<Row> byUser = kept.select(col(KEPT_USER).as("__kept_user"), col(KEPT_HISTORY).as("__kept_history"));
        Dataset<Row> joined = rows.join(byUser, rows.col($(userCol)).cast("string").equalTo(byUser.col("__kept_user")), "left");
        Column history = coalesce(col("__kept_history"), array().cast(DataTypes.createArrayType(DataTypes.StringType)));
        for (String c : missing) {
            joined = joined.withColumn(c, history);
        }
        return joined.drop("__kept_user", "__kept_history");
    }

    /** Width of the embeddings. */
    public int rank() {
        return config.outputDim();
    }

    /** The time recommendations are made for when none is given: the latest time seen in fitting. */
    public long latestTimestamp() {
        return spec.latestTimestamp();
    }

    /**
     * The input column of each query column the spec was fitted on, in {@link FeatureSpec#queryColumns()} order:
     * the user and time columns follow this model's {@code userCol} / {@code timestampCol}, side features keep
     * their names.
     */
    List<String> queryInputColumns() {
        FittedFeature time = spec.timestampFeature();
        List<String> out = new ArrayList<>();
        for (String c : spec.queryColumns()) {
            out.add(c.equals(spec.userColumn()) ? $(userCol) : time != null && c.equals(time.column()) ? $(timestampCol) : c);
        }
        return out;
    }

    /**
     * The side-feature columns of the query tower that queries must carry: neither the user nor the time, nor a
     * history built from the interactions (the model keeps each known user's).
     */
    private List<String> sideColumns() {
        List<String> in = queryInputColumns();
        List<String> histories = derivedHistoryColumns();
        return in.stream().filter(c -> !c.equals($(userCol)) && !c.equals($(timestampCol)) && !histories.contains(c))
                .toList();
    }

    /** This model's serving state, broadcast on first use and shared with its copies. */
    Broadcast<ServingReplicas.State> state(SparkSession spark) {
        SharedBroadcast shared = shared();
        synchronized (shared) {
            if (shared.value == null) {
                shared.value = JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(
                        new ServingReplicas.State(config, spec, corpus, parameters, itemEmbeddings));
            }
            return shared.value;
        }
    }

    /** The holder of the towers' broadcast, made on first use. */
    private synchronized SharedBroadcast shared() {
        if (broadcast == null) {
            broadcast = new SharedBroadcast();
        }
        return broadcast;
    }

    /**
     * Releases what this model holds on the executors now instead of when the model is garbage-collected: removes
     * the executors' copies of its towers' broadcast (and with them the tower replicas built from them, once
     * collected) and unpersists the kept histories; for this model and its copies. The driver keeps its copy, so
     * the model, its copies and results already returned (lazy DataFrames) stay usable: a later job sends the
     * towers to the executors again, and the kept histories are read again from their source. Releasing twice is
     * harmless.
     */
    public void release() {
        SharedBroadcast shared = shared();
        synchronized (shared) {
            if (shared.value != null) {
                shared.value.unpersist(true);
            }
        }
        if (userHistories != null) {
            userHistories.unpersist();
        }
    }

    /** A broadcast this model and its copies share; null until first used. */
    private static final class SharedBroadcast {
        private Broadcast<ServingReplicas.State> value;
    }

    @Override
    public StructType transformSchema(StructType schema) {
        // The time is needed only when the query tower reads it.
        columns().checkForQueries(schema, queryInputColumns().contains($(timestampCol)));
        for (String c : sideColumns()) {
            if (!Arrays.asList(schema.fieldNames()).contains(c)) {
                throw new IllegalArgumentException("column '" + c + "' (a query feature of this model) is missing; the"
                        + " DataFrame has " + Arrays.toString(schema.fieldNames()));
            }
        }
        StructType out = schema.add($(queryEmbeddingCol), DataTypes.createArrayType(DataTypes.FloatType, false), false);
        if (Arrays.asList(schema.fieldNames()).contains($(itemCol))) {
            out = out.add($(scoreCol), DataTypes.FloatType, true);
        }
        if (!$(recommendationsCol).isEmpty()) {
            out = out.add($(recommendationsCol), DataTypes.createArrayType(hitType(), false), false);
        }
        return out;
    }

    /**
     * Adds each row's query embedding (user and time through the query tower) and, when the item column is
     * present, the user-item score. Rows the model cannot score follow {@code coldStartStrategy}: with {@code nan}
     * (the default) an item the model does not know (or a null item) scores NaN and a user it does not know is
     * embedded through the out-of-vocabulary row; with {@code drop} both kinds of row are left out, so that an
     * evaluator sees only rows the model knows (as ALS's {@code drop}, for cross-validation). With
     * {@code recommendationsCol} set, each row also gets its query's {@code recommendationsK} best items over every
     * candidate (exact search), what {@link RetrievalEvaluator} ranks, so that {@code CrossValidator} can choose
     * settings by per-user recall or NDCG.
     */
    @Override
    public Dataset<Row> transform(Dataset<?> input) {
        Dataset<Row> dataset = withKeptHistories(input.toDF());
        StructType out = transformSchema(dataset.schema());
        StructType in = dataset.schema();
        int[] queryAt = queryInputColumns().stream().mapToInt(in::fieldIndex).toArray();
        int itemAt = Arrays.asList(in.fieldNames()).contains($(itemCol)) ? in.fieldIndex($(itemCol)) : -1;
        int userAt = Arrays.asList(in.fieldNames()).contains($(userCol)) ? in.fieldIndex($(userCol)) : -1;
        boolean drop = $(coldStartStrategy).equals("drop");
        int recommend = $(recommendationsCol).isEmpty() ? 0 : (Integer) $(recommendationsK);
        DataType iType = itemType;
        Broadcast<ServingReplicas.State> b = state(dataset.sparkSession());
        JavaRDD<Row> rows = dataset.toDF().javaRDD().mapPartitions(all -> {
            ServingReplicas.Replica replica = b.value().replica();
            int dim = replica.state().dim();
            float[] items = replica.state().itemEmbeddings();
            Iterator<Row> it = !drop ? all : filter(all, r -> (userAt < 0 || replica.knowsUser(r.get(userAt)))
                    && (itemAt < 0 || (!r.isNullAt(itemAt) && replica.recordOf(String.valueOf(r.get(itemAt))) != null)));
            return new Blocks<>(it, block -> {
                float[] q = replica.queryEmbeddings(block.size(),
                        (r, c) -> RowValues.get(block.get(r), queryAt[c]));
                TopK.Hits[] hits = recommend == 0 ? null : replica.index().search(q, block.size(), recommend, null);
                List<Row> result = new ArrayList<>(block.size());
                for (int i = 0; i < block.size(); i++) {
                    Row r = block.get(i);
                    Object[] values = new Object[r.size() + (itemAt < 0 ? 1 : 2) + (recommend == 0 ? 0 : 1)];
                    for (int c = 0; c < r.size(); c++) {
                        values[c] = r.get(c);
                    }
                    values[r.size()] = Arrays.copyOfRange(q, i * dim, (i + 1) * dim);
                    if (itemAt >= 0) {
                        Integer rec = r.isNullAt(itemAt) ? null : replica.recordOf(String.valueOf(r.get(itemAt)));
                        values[r.size() + 1] = rec == null ? Float.NaN : dot(q, i * dim, items, rec * dim, dim);
                    }
                    if (hits != null) {
                        values[values.length - 1] = hitRows(hits[i], replica.state().corpus(), iType);
                    }
                    result.add(RowFactory.create(values));
                }
                return result;
            });
        });
        return dataset.sparkSession().createDataFrame(rows, out);
    }

    /** Query embeddings of the rows of {@code queries}: the user column and the query features' columns, then the embedding. */
    public Dataset<Row> queryEmbeddings(Dataset<?> queries) {
        Dataset<Row> rows = withKeptHistories(queries.toDF());
        return transform(rows.select(queryColumns(rows.schema())));
    }

    private org.apache.spark.sql.Column[] queryColumns(StructType schema) {
        transformSchema(schema);
        java.util.LinkedHashSet<String> names = new java.util.LinkedHashSet<>(List.of($(userCol)));
        names.addAll(queryInputColumns());
        return names.stream().map(org.apache.spark.sql.functions::col).toArray(org.apache.spark.sql.Column[]::new);
    }

    /** Every candidate item and its embedding: {@code itemCol, embedding array<float>}. */
    public Dataset<Row> itemEmbeddings() {
        return SparkSession.active().createDataFrame(itemEmbeddingRows(), itemEmbeddingSchema());
    }

    /** The schema of {@link #itemEmbeddings()}. */
    StructType itemEmbeddingSchema() {
        return new StructType().add($(itemCol), itemType, false)
                .add("embedding", DataTypes.createArrayType(DataTypes.FloatType, false), false);
    }

    /** The rows of {@link #itemEmbeddings()}, in candidate order. */
    List<Row> itemEmbeddingRows() {
        int dim = rank();
        List<Row> rows = new ArrayList<>(corpus.size());
        for (int r = 0; r < corpus.size(); r++) {
            rows.add(RowFactory.create(typed(corpus.itemId(r), itemType), Arrays.copyOfRange(itemEmbeddings, r * dim, (r + 1) * dim)));
        }
        return rows;
    }

    /** The schema of recommendations: {@code userCol, recommendations array<struct<itemCol, score>>}, as ALS. */
    public StructType recommendationSchema() {
        return new StructType().add($(userCol), userType, false)
                .add("recommendations", DataTypes.createArrayType(hitType(), false), false);
    }

    /** One recommendation: {@code struct<itemCol, score>}. */
    private StructType hitType() {
        return new StructType().add($(itemCol), itemType, false).add("score", DataTypes.FloatType, false);
    }

    /** The {@code k} best items for every user the model knows, at the latest time seen in fitting. */
    public Dataset<Row> recommendForAllUsers(int k) {
        return recommendForAllUsers(k, null);
    }

    /**
     * The {@code k} best items for every user the model knows, at the latest time seen in fitting, leaving out each
     * user's items in {@code seen} (its {@code userCol} and {@code itemCol}; e.g. the training interactions), or
     * nothing when {@code seen} is null.
     */
    public Dataset<Row> recommendForAllUsers(int k, Dataset<?> seen) {
        FittedFeature user = spec.userFeature();
        if (user == null) {
            throw new IllegalArgumentException("the query tower has no categorical feature on userCol '" + spec.userColumn()
                    + "', so the model knows no users: use recommendForUserSubset with the query columns");
        }
        if (!sideColumns().isEmpty()) {
            throw new IllegalArgumentException("the query tower also reads " + sideColumns() + ", which the model"
                    + " does not keep per user: use recommendForUserSubset(users, k) with those columns");
        }
        SparkSession spark = SparkSession.active();
        List<Row> ids = user.vocabulary().stream().map(RowFactory::create).toList();
        Dataset<Row> users = spark.createDataFrame(ids, new StructType().add($(userCol), DataTypes.StringType, false));
        int slices = Math.max(1, Math.min(spark.sparkContext().defaultParallelism(), (ids.size() + QUERY_BLOCK - 1) / QUERY_BLOCK));
        return recommendForUserSubset(users.repartition(slices), k, seen);
    }

    /**
     * The {@code k} best items for each distinct user of {@code users}, from its query columns: the user, side
     * features if the model has them, and the time (when absent: the latest seen in fitting). When a user has
     * several rows, the one with the latest time is used (ties: the smallest row in Spark's ordering of its
     * columns), so the choice is a function of the data. A user the model does not know is recommended from the
     * out-of-vocabulary row with {@code coldStartStrategy} {@code nan} and left out with {@code drop}.
     *
     * <p>A model whose query tower reads a history takes it from the history feature's column when {@code users}
     * has one (an array of item ids, oldest first: e.g. the session of a user the model has never seen, who is then
     * recommended from it without refitting), else each user's latest training items ({@link #userHistories()};
     * none for an unknown user). Inductive use needs {@code coldStartStrategy} {@code nan}: {@code drop} leaves
     * out every user outside the user vocabulary, history or not.
     */
    public Dataset<Row> recommendForUserSubset(Dataset<?> users, int k) {
        return recommendForUserSubset(users, k, null);
    }

    /** As {@link #recommendForUserSubset(Dataset, int)}, leaving out each user's items in {@code seen} (or none). */
    public Dataset<Row> recommendForUserSubset(Dataset<?> subset, int k, Dataset<?> seen) {
        if (k < 1) {
            throw new IllegalArgumentException("k must be >= 1, got " + k);
        }
        Dataset<Row> users = withKeptHistories(subset.toDF());
        InteractionColumns.check(users.schema(), $(userCol), "userCol", List.of(userType, DataTypes.StringType));
        List<Column> select = queryInputs(users);
        // The user id rides along at the end when the query tower does not read it (side features only).
        int userAt = queryInputColumns().indexOf($(userCol));
        if (userAt < 0) {
            userAt = select.size();
            select.add(col($(userCol)).cast("string").as($(userCol)));
        }
        Dataset<Row> queries = OneRowPerUser.latest(users.toDF().select(select.toArray(Column[]::new)), $(userCol),
                queryInputColumns().contains($(timestampCol)) ? $(timestampCol) : null);
        int width = select.size();
        if (seen != null) {
            InteractionColumns.check(seen.schema(), $(userCol), "userCol", List.of(userType, DataTypes.StringType));
            InteractionColumns.check(seen.schema(), $(itemCol), "itemCol", List.of(itemType, DataTypes.StringType));
            Dataset<Row> perUser = seen.toDF().groupBy(col($(userCol)).cast("string").as("_seen_user"))
                    .agg(org.apache.spark.sql.functions.collect_set(col($(itemCol)).cast("string")).as("_seen"));
            queries = queries.join(perUser, queries.col($(userCol)).equalTo(perUser.col("_seen_user")), "left")
                    .drop("_seen_user");
        }
        DataType uType = userType;
        JavaRDD<Row> rows = search(queries, userAt, width, seen != null, $(coldStartStrategy).equals("drop"), k,
                key -> typed(key, uType), users.sparkSession());
        return users.sparkSession().createDataFrame(rows, recommendationSchema());
    }

    /**
     * The {@code k} best items for every row of {@code queries}, each row its own query (no row per user is chosen):
     * the user, the time (when absent: the latest seen in fitting), the history column (when absent: the user's
     * kept history) and side features, as {@link #recommendForUserSubset} reads them. Keyed by {@code idCol} (any
     * type, written as a string): {@code idCol, recommendations array<struct<itemCol, score>>}. An evaluation of
     * next-item queries asks this, each query a user at one moment with the history they had then.
     */
    public Dataset<Row> recommendForQueries(Dataset<?> queries, String idCol, int k) {
        if (k < 1) {
            throw new IllegalArgumentException("k must be >= 1, got " + k);
        }
        Dataset<Row> rows = withKeptHistories(queries.toDF());
        if (!Arrays.asList(rows.columns()).contains(idCol)) {
            throw new IllegalArgumentException("idCol: column '" + idCol + "' is missing; the DataFrame has "
                    + Arrays.toString(rows.columns()));
        }
        List<Column> select = queryInputs(rows);
        int keyAt = select.size();
        select.add(col(idCol).cast("string").as("__query_id"));
        JavaRDD<Row> out = search(rows.select(select.toArray(Column[]::new)), keyAt, keyAt + 1, false, false, k,
                key -> key, rows.sparkSession());
        return rows.sparkSession().createDataFrame(out, new StructType().add(idCol, DataTypes.StringType, false)
                .add("recommendations", DataTypes.createArrayType(hitType(), false), false));
    }

    /**
     * The query tower's input columns out of {@code rows}, in {@link #queryInputColumns()} order: the user id as a
     * string, the time (the latest seen in fitting when {@code rows} has none), the other features as they are.
     */
    private List<Column> queryInputs(Dataset<Row> rows) {
        List<String> names = Arrays.asList(rows.columns());
        List<Column> select = new ArrayList<>();
        for (String c : queryInputColumns()) {
            if (c.equals($(userCol))) {
                select.add(col(c).cast("string").as(c));
            } else if (c.equals($(timestampCol)) && !names.contains(c)) {
                select.add(org.apache.spark.sql.functions.lit(latestTimestamp()).as(c));
            } else if (!names.contains(c)) {
                throw new IllegalArgumentException("column '" + c + "' (a query feature of this model) is missing;"
                        + " the DataFrame has " + names);
            } else {
                select.add(col(c));
            }
        }
        return select;
    }

    /** One query's hits as rows of {@code struct<itemCol, score>}, best first. */
    private static Row[] hitRows(TopK.Hits hits, CandidateCorpus corpus, DataType itemType) {
        Row[] recs = new Row[hits.rows().length];
        for (int j = 0; j < recs.length; j++) {
            recs[j] = RowFactory.create(typed(corpus.itemId(hits.rows()[j]), itemType), hits.scores()[j]);
        }
        return recs;
    }

    /** The output key of a query row from its string form (shipped to the executors). */
    @FunctionalInterface
    private interface KeyOf extends java.io.Serializable {
        Object apply(String key);
    }

    /**
     * The top-k search of query rows on the executors: the query tower reads columns 0.. of each row (in
     * {@link #queryInputColumns()} order), {@code keyAt} holds the key written out (through {@code key}), and with
     * {@code exclude} column {@code seenAt} holds item ids to leave out; {@code drop} skips users the model does not
     * know (read from {@code keyAt}).
     */
    private JavaRDD<Row> search(Dataset<Row> queries, int keyAt, int seenAt, boolean exclude, boolean drop, int k,
                                KeyOf key, SparkSession spark) {
        Broadcast<ServingReplicas.State> b = state(spark);
        DataType iType = itemType;
        return queries.javaRDD().mapPartitions(all -> {
            ServingReplicas.Replica replica = b.value().replica();
            Iterator<Row> it = drop ? filter(all, r -> replica.knowsUser(r.getString(keyAt))) : all;
            CandidateCorpus c = replica.state().corpus();
            return new Blocks<>(it, block -> {
                int n = block.size();
                int[][] leaveOut = exclude ? new int[n][] : null;
                for (int i = 0; exclude && i < n; i++) {
                    Row r = block.get(i);
                    leaveOut[i] = r.isNullAt(seenAt) ? null : r.<String>getList(seenAt).stream()
                            .map(replica::recordOf).filter(java.util.Objects::nonNull).mapToInt(Integer::intValue).toArray();
                }
                float[] q = replica.queryEmbeddings(n, (r, col) -> RowValues.get(block.get(r), col));
                TopK.Hits[] hits = replica.index().search(q, n, k, leaveOut);
                List<Row> out = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    out.add(RowFactory.create(key.apply(block.get(i).getString(keyAt)), hitRows(hits[i], c, iType)));
                }
                return out;
            });
        });
    }

    /** The rows of {@code in} that pass {@code keep}, lazily. */
    private static Iterator<Row> filter(Iterator<Row> in, Predicate<Row> keep) {
        return new Iterator<>() {
            private Row next = advance();

            private Row advance() {
                while (in.hasNext()) {
                    Row r = in.next();
                    if (keep.test(r)) {
                        return r;
                    }
                }
                return null;
            }

            @Override
            public boolean hasNext() {
                return next != null;
            }

            @Override
            public Row next() {
                if (next == null) {
                    throw new NoSuchElementException();
                }
                Row r = next;
                next = advance();
                return r;
            }
        };
    }

    /** An id back in the type its column had when the model was fitted. */
    static Object typed(String id, DataType type) {
        if (type.equals(DataTypes.IntegerType)) {
            return Integer.valueOf(id);
        }
        if (type.equals(DataTypes.LongType)) {
            return Long.valueOf(id);
        }
        if (type.equals(DataTypes.ShortType)) {
            return Short.valueOf(id);
        }
        return id;
    }

    static long seconds(Object time) {
        if (time == null) {
            throw new IllegalArgumentException("timestampCol: a row has a null time");
        }
        if (time instanceof java.sql.Timestamp ts) {
            return Math.floorDiv(ts.getTime(), 1000);
        }
        if (time instanceof Number n) {
            return n.longValue();
        }
        throw new IllegalArgumentException("timestampCol: cannot read " + time.getClass().getSimpleName() + " as seconds");
    }

    private static float dot(float[] a, int aFrom, float[] b, int bFrom, int n) {
        float s = 0;
        for (int i = 0; i < n; i++) {
            s += a[aFrom + i] * b[bFrom + i];
        }
        return s;
    }

    /**
     * The model as a {@link ServingModel} for the Spark-free server and CLI: the same towers, parameters, items with
     * their labels and embeddings, the kept user histories (brought to the driver), and a description of its
     * settings as metadata. Each call makes a new one (with
     * its own graph thread): close it when done.
     */
    public ServingModel serving() {
        List<String> ids = new ArrayList<>(corpus.size());
        List<String> labels = new ArrayList<>(corpus.size());
        for (int r = 0; r < corpus.size(); r++) {
            ids.add(corpus.itemId(r));
            labels.add(corpus.label(r));
        }
        ObjectNode info = new ObjectMapper().createObjectNode()
                .put("class", TwoTowerRetrievalModel.class.getName()).put("uid", uid)
                .put("formatVersion", TwoTowerRetrievalWriter.FORMAT)
                .put("embeddingDim", config.embeddingDim())
                .put("layerSizes", Arrays.toString(config.layerSizes()))
                .put("objective", String.valueOf(config.objective()))
                .put("userCol", $(userCol)).put("itemCol", $(itemCol)).put("timestampCol", $(timestampCol));
        spec.queryColumns().forEach(info.putArray("queryColumns")::add);
        java.util.Map<String, List<String>> histories = new java.util.HashMap<>();
        if (userHistories != null) {
            for (Row r : userHistories.collectAsList()) {
                histories.put(r.getString(0), List.copyOf(r.<String>getList(1)));
            }
        }
        return ServingModel.of(config, spec, parameters, ids, labels, itemEmbeddings, info, histories);
    }

    @Override
    public TwoTowerRetrievalModel copy(ParamMap extra) {
        TwoTowerRetrievalModel copy = new TwoTowerRetrievalModel(uid, columns(), spec, corpus, config, parameters,
                itemEmbeddings, validationCurve, userType, itemType);
        copy.validationRanking = validationRanking;
        copy.stoppingCurve = stoppingCurve;
        copy.stoppingBestEpoch = stoppingBestEpoch;
        copy.stoppingRanking = stoppingRanking;
        copy.skippedRows = skippedRows;
        copy.broadcast = shared(); // the same towers: one broadcast serves both, and one release frees it
        copy.userHistories = userHistories;
        return copyValues(copy, extra).setParent(parent());
    }

    @Override
    public MLWriter write() {
        return new TwoTowerRetrievalWriter(this);
    }

    public static MLReader<TwoTowerRetrievalModel> read() {
        return new TwoTowerRetrievalWriter.Reader();
    }

    public static TwoTowerRetrievalModel load(String path) {
        return read().load(path);
    }

    /** Turns an iterator of inputs into one of outputs, {@value #QUERY_BLOCK} inputs at a time. */
    private static final class Blocks<I> implements Iterator<Row> {
        private final Iterator<I> in;
        private final java.util.function.Function<List<I>, List<Row>> work;
        private Iterator<Row> current = java.util.Collections.emptyIterator();

        Blocks(Iterator<I> in, java.util.function.Function<List<I>, List<Row>> work) {
            this.in = in;
            this.work = work;
        }

        @Override
        public boolean hasNext() {
            while (!current.hasNext() && in.hasNext()) {
                List<I> block = new ArrayList<>(QUERY_BLOCK);
                while (in.hasNext() && block.size() < QUERY_BLOCK) {
                    block.add(in.next());
                }
                current = work.apply(block).iterator();
            }
            return current.hasNext();
        }

        @Override
        public Row next() {
            if (!hasNext()) {
                throw new java.util.NoSuchElementException();
            }
            return current.next();
        }
    }
}
