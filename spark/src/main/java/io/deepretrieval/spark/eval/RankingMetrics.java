package io.deepretrieval.spark.eval;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.evaluation.RankingEvaluator;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.util.Arrays;
import java.util.List;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.posexplode;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.sort_array;
import static org.apache.spark.sql.functions.struct;

/**
 * Per-user ranking metrics of top-K recommendations against held-out interactions, averaged over users, computed
 * by Spark's {@link RankingEvaluator} (binary relevance: a recommended item is relevant when the user has it in
 * the held-out set).
 *
 * <p>Input: recommendations in ALS's output schema (a user column and {@value #RECOMMENDATIONS}:
 * {@code array<struct<item, score>>}, best first, as {@code TwoTowerRetrievalModel.recommendForAllUsers(k)} and
 * {@code ALSModel.recommendForAllUsers(k)} write them) and held-out interactions (a user and an item column; a
 * user's repeated item counts once). Ids of any type are compared as strings, so an int id in one and a string id
 * in the other match.
 *
 * <p>Averaged over the users with at least one held-out item. A user with held-out items but no recommendations
 * scores 0 on every metric (and is counted in {@link Result#usersWithoutRecommendations()}); users with
 * recommendations but nothing held out are left out. For a user with recommendations r_1, r_2, ... (only the first
 * K count), held-out set T and hits h_i = 1 when r_i is in T (Spark's definitions, in {@code RankingMetrics}):
 * <ul>
 *   <li>recall@K = (h_1 + ... + h_K) / |T| (so a user with more than K held-out items cannot reach 1);</li>
 *   <li>precision@K = (h_1 + ... + h_K) / K (also when fewer than K items are recommended);</li>
 *   <li>NDCG@K = DCG / IDCG with DCG = sum over i &le; K of h_i / log(i + 1) and IDCG = sum over
 *       i &le; min(|T|, K) of 1 / log(i + 1), the DCG of a ranking that puts held-out items first;</li>
 *   <li>MAP@K = (sum over i &le; K of h_i * (h_1 + ... + h_i) / i) / min(|T|, K).</li>
 * </ul>
 */
public final class RankingMetrics {
    /** The recommendations column of ALS's output schema. */
    public static final String RECOMMENDATIONS = "recommendations";

    private final String userCol;
    private final String itemCol;

    /**
     * Metrics over held-out (and training) interactions with these user and item columns; the recommendations'
     * user column has the same name, their items are the first field of each recommendation.
     */
    public RankingMetrics(String userCol, String itemCol) {
        this.userCol = userCol;
        this.itemCol = itemCol;
    }

    /** The averages at one K, and the users they are averaged over. */
    public record Result(int k, long users, long usersWithoutRecommendations, double recallAtK, double ndcgAtK,
                         double precisionAtK, double mapAtK) {
    }

    /** Recall, NDCG, precision and MAP at {@code k} (see the class comment for their definitions). */
    public Result evaluate(Dataset<Row> recommendations, Dataset<Row> heldOut, int k) {
        if (k < 1) {
            throw new IllegalArgumentException("k: must be >= 1, got " + k);
        }
        String recItem = recommendedItemField(recommendations);
        requireColumns("heldOut", heldOut, userCol, itemCol);
        Dataset<Row> recommended = exploded(recommendations)
                .select(col("_user"), col("_pos"), col("_rec").getField(recItem).cast("string").as("_item"))
                .filter(col("_item").isNotNull());
        Dataset<Row> held = heldOut.select(col(userCol).cast("string").as("_user"), col(itemCol).cast("string").as("_item"))
                .filter(col("_user").isNotNull().and(col("_item").isNotNull()))
                .distinct();
        Dataset<Row> index = denseIndex(recommended.select("_item").union(held.select("_item")).distinct()).cache();
        // RankingEvaluator takes array<double>: each id becomes its index; the position keeps the ranking's order
        // through the shuffle (collect_list alone does not).
        Dataset<Row> predicted = recommended.join(index, "_item")
                .groupBy("_user").agg(sort_array(collect_list(struct(col("_pos"), col("_index")))).getField("_index").as("prediction"));
        Dataset<Row> labels = held.join(index, "_item").groupBy("_user").agg(collect_list("_index").as("label"));
        Column none = array().cast(DataTypes.createArrayType(DataTypes.DoubleType));
        Dataset<Row> scored = labels.join(predicted, new String[]{"_user"}, "left")
                .select(col("_user"), coalesce(col("prediction"), none).as("prediction"), col("label"))
                .cache();
        try {
            long users = scored.count();
            if (users == 0) {
                throw new IllegalArgumentException("heldOut: no interactions to evaluate (columns " + userCol + ", "
                        + itemCol + ")");
            }
            long without = scored.filter(size(col("prediction")).equalTo(0)).count();
            RankingEvaluator evaluator = new RankingEvaluator().setK(k).setPredictionCol("prediction").setLabelCol("label");
            return new Result(k, users, without,
                    evaluator.setMetricName("recallAtK").evaluate(scored),
                    evaluator.setMetricName("ndcgAtK").evaluate(scored),
                    evaluator.setMetricName("precisionAtK").evaluate(scored),
                    evaluator.setMetricName("meanAveragePrecisionAtK").evaluate(scored));
        } finally {
            scored.unpersist();
            index.unpersist();
        }
    }

    /**
     * The recommendations without each user's training items ({@code train}: the user and item columns), the rest
     * in their order and schema; a user left with none drops out. Scoring then sees fewer than K items for users
     * with training items among their top K, so ask the model for K plus the most training items a user has.
     */
    public Dataset<Row> withoutTrainingItems(Dataset<Row> recommendations, Dataset<Row> train) {
        String recItem = recommendedItemField(recommendations);
        requireColumns("train", train, userCol, itemCol);
        Dataset<Row> seen = train.select(col(userCol).cast("string").as("_user"), col(itemCol).cast("string").as("_item"))
                .distinct();
        Dataset<Row> kept = exploded(recommendations)
                .withColumn("_item", col("_rec").getField(recItem).cast("string"))
                .join(seen, new String[]{"_user", "_item"}, "left_anti");
        return kept.groupBy(col(userCol))
                .agg(sort_array(collect_list(struct(col("_pos"), col("_rec")))).getField("_rec").as(RECOMMENDATIONS));
    }

    /** One row per recommendation: the user (as given and as {@code _user}), its position {@code _pos}, {@code _rec}. */
    private Dataset<Row> exploded(Dataset<Row> recommendations) {
        return recommendations.select(col(userCol), col(userCol).cast("string").as("_user"),
                posexplode(col(RECOMMENDATIONS)).as(new String[]{"_pos", "_rec"}));
    }

    /** Checks the ALS schema and returns the name of the item field of a recommendation. */
    private String recommendedItemField(Dataset<Row> recommendations) {
        requireColumns("recommendations", recommendations, userCol, RECOMMENDATIONS);
        DataType type = recommendations.schema().apply(RECOMMENDATIONS).dataType();
        if (type instanceof ArrayType array && array.elementType() instanceof StructType rec && rec.fields().length > 0) {
            return rec.fields()[0].name();
        }
        throw new IllegalArgumentException("recommendations: column '" + RECOMMENDATIONS + "' must be"
                + " array<struct<item, score>> (ALS's output), got " + type.simpleString());
    }

    private static void requireColumns(String what, Dataset<Row> df, String... names) {
        List<String> columns = Arrays.asList(df.columns());
        for (String name : names) {
            if (!columns.contains(name)) {
                throw new IllegalArgumentException(what + ": column '" + name + "' is missing; it has " + columns);
            }
        }
    }

    /** Each distinct {@code _item} with a distinct double {@code _index} (0, 1, ... in id order). */
    private static Dataset<Row> denseIndex(Dataset<Row> items) {
        // Sorted first: zipWithIndex numbers rows in partition order, which after distinct() could differ between
        // the two joins that read the index if it were recomputed.
        JavaRDD<Row> rows = items.orderBy("_item").javaRDD().zipWithIndex().map(t -> RowFactory.create(t._1().getString(0), (double) t._2()));
        return items.sparkSession().createDataFrame(rows, new StructType()
                .add("_item", DataTypes.StringType, false).add("_index", DataTypes.DoubleType, false));
    }
}
