package io.deepretrieval.spark.ml;

import io.deepretrieval.spark.eval.RankingMetrics;
import org.apache.spark.ml.evaluation.Evaluator;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

import java.util.Arrays;
import java.util.List;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.first;
import static org.apache.spark.sql.functions.max_by;

/**
 * Per-user ranking quality of a {@link TwoTowerRetrievalModel}'s output, for {@code CrossValidator} and
 * {@code TrainValidationSplit}: the model (with {@code recommendationsCol} set) gives each held-out row its best
 * items; this evaluator takes, per user, the recommendations of the user's latest row (by {@code timestampCol},
 * or any row without one), treats the user's items in the rows as relevant, and computes the metric by Spark's
 * {@code RankingEvaluator} over users (see {@link RankingMetrics} for the definitions). Larger is better.
 *
 * <p>The recommendations range over every candidate, so items a user had in the training folds can take places
 * in the top K: the figure is lower than one that leaves them out, the same way for every setting compared.
 */
public final class RetrievalEvaluator extends Evaluator implements DefaultParamsWritable {
    /** The metrics this evaluator computes, as {@code RankingEvaluator} names them. */
    static final String[] METRICS = {"recallAtK", "ndcgAtK", "precisionAtK", "meanAveragePrecisionAtK"};

    private final String uid;
    private final Param<String> userCol;
    private final Param<String> itemCol;
    private final Param<String> timestampCol;
    private final Param<String> recommendationsCol;
    private final Param<String> metricName;
    private final IntParam k;

    /** An evaluator with a fresh uid. */
    public RetrievalEvaluator() {
        this(Identifiable$.MODULE$.randomUID("retrievalEval"));
    }

    /** An evaluator with this uid (as Spark ML's readers create them). */
    public RetrievalEvaluator(String uid) {
        this.uid = uid;
        userCol = new Param<>(this, "userCol", "column of user ids");
        itemCol = new Param<>(this, "itemCol", "column of the held-out item ids");
        timestampCol = new Param<>(this, "timestampCol", "column of query times: each user's latest row's"
                + " recommendations are ranked; empty: any row's (all equal when the query reads no time)");
        recommendationsCol = new Param<>(this, "recommendationsCol", "column of each row's recommendations"
                + " (array<struct<item, score>>, best first), as the model's recommendationsCol writes it");
        metricName = new Param<>(this, "metricName", "metric: " + String.join(", ", METRICS),
                ParamValidators.inArray(METRICS));
        k = new IntParam(this, "k", "cut-off: the first k recommendations count (>= 1)", ParamValidators.gtEq(1));
        setDefault(userCol, "user");
        setDefault(itemCol, "item");
        setDefault(timestampCol, "");
        setDefault(recommendationsCol, "recommendations");
        setDefault(metricName, "ndcgAtK");
        setDefault(k, 10);
    }

    @Override
    public String uid() {
        return uid;
    }

    public Param<String> userCol() { return userCol; }
    public Param<String> itemCol() { return itemCol; }
    public Param<String> timestampCol() { return timestampCol; }
    public Param<String> recommendationsCol() { return recommendationsCol; }
    public Param<String> metricName() { return metricName; }
    public IntParam k() { return k; }

    public RetrievalEvaluator setUserCol(String v) { set(userCol, v); return this; }
    public RetrievalEvaluator setItemCol(String v) { set(itemCol, v); return this; }
    public RetrievalEvaluator setTimestampCol(String v) { set(timestampCol, v); return this; }
    public RetrievalEvaluator setRecommendationsCol(String v) { set(recommendationsCol, v); return this; }
    public RetrievalEvaluator setMetricName(String v) { set(metricName, v); return this; }
    public RetrievalEvaluator setK(int v) { set(k, v); return this; }

    /**
     * The metric over the users of {@code dataset}; a missing column is an error naming it and the columns there
     * are, as is a dataset without rows.
     */
    @Override
    public double evaluate(Dataset<?> dataset) {
        Dataset<Row> rows = dataset.toDF();
        List<String> columns = Arrays.asList(rows.columns());
        String time = $(timestampCol);
        for (String c : time.isEmpty() ? List.of($(userCol), $(itemCol), $(recommendationsCol))
                : List.of($(userCol), $(itemCol), $(recommendationsCol), time)) {
            if (!columns.contains(c)) {
                throw new IllegalArgumentException("RetrievalEvaluator: column '" + c + "' is missing; the DataFrame"
                        + " has " + columns + " (set the model's recommendationsCol to add recommendations)");
            }
        }
        Dataset<Row> perUser = rows.groupBy(col($(userCol))).agg((time.isEmpty() ? first(col($(recommendationsCol)))
                : max_by(col($(recommendationsCol)), col(time))).as(RankingMetrics.RECOMMENDATIONS));
        RankingMetrics.Result r = new RankingMetrics($(userCol), $(itemCol))
                .evaluate(perUser, rows.select($(userCol), $(itemCol)), (Integer) $(k));
        return switch ($(metricName)) {
            case "recallAtK" -> r.recallAtK();
            case "precisionAtK" -> r.precisionAtK();
            case "meanAveragePrecisionAtK" -> r.mapAtK();
            default -> r.ndcgAtK();
        };
    }

    @Override
    public boolean isLargerBetter() {
        return true;
    }

    @Override
    public RetrievalEvaluator copy(ParamMap extra) {
        return copyValues(new RetrievalEvaluator(uid), extra);
    }

    /** Reads an evaluator saved by {@code write().save(path)} (as part of a saved CrossValidator, too). */
    public static MLReader<RetrievalEvaluator> read() {
        return new DefaultParamsReader<>();
    }

    /** Loads an evaluator saved at {@code path}. */
    public static RetrievalEvaluator load(String path) {
        return read().load(path);
    }
}
