package example;

import io.deepretrieval.spark.ml.RetrievalEvaluator;
import io.deepretrieval.spark.ml.TwoTowerRetrieval;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.tuning.CrossValidator;
import org.apache.spark.ml.tuning.CrossValidatorModel;
import org.apache.spark.ml.tuning.ParamGridBuilder;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Chooses the towers' settings with Spark's {@code CrossValidator}: each fold's model writes every held-out row's
 * top 10 ({@code recommendationsCol}), and {@link RetrievalEvaluator} scores them per user (NDCG@10). Reads the
 * interactions {@link QuickStart} wrote.
 *
 * <p>Usage: {@code ModelSelection FOLDER} (QuickStart's folder, after QuickStart ran).
 */
public final class ModelSelection {
    public static void main(String[] args) {
        SparkSession spark = SparkSession.builder().master("local[2]").appName("deep-retrieval model selection")
                .config("spark.sql.shuffle.partitions", 4).getOrCreate();
        Dataset<Row> interactions = spark.read().parquet(args[0] + "/interactions");

        TwoTowerRetrieval towers = new TwoTowerRetrieval()
                .setUserCol("customer").setItemCol("product").setTimestampCol("ts").setTitleCol("")
                .setLayerSizes(32).setBatchSize(256).setMaxEpochs(5)
                .setValidationFraction(0)                 // the folds hold out the rows
                .setColdStartStrategy("drop")             // a fold's model skips users it never saw
                .setRecommendationsCol("recommendations").setRecommendationsK(10);
        ParamMap[] grid = new ParamGridBuilder()
                .addGrid(towers.learningRate(), new double[]{0.001, 0.1})
                .build();
        RetrievalEvaluator ndcg = new RetrievalEvaluator()
                .setUserCol("customer").setItemCol("product").setTimestampCol("ts")
                .setMetricName("ndcgAtK").setK(10);
        CrossValidatorModel cv = new CrossValidator().setEstimator(towers).setEstimatorParamMaps(grid)
                .setEvaluator(ndcg).setNumFolds(2).setSeed(1).fit(interactions);

        for (int i = 0; i < grid.length; i++) {
            System.out.printf("learningRate %.3f: NDCG@10 %.4f%n", grid[i].apply(towers.learningRate()),
                    cv.avgMetrics()[i]);
        }
        spark.stop();
    }
}
