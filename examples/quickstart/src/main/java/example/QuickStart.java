package example;

import io.deepretrieval.spark.ml.TwoTowerRetrieval;
import io.deepretrieval.spark.ml.TwoTowerRetrievalModel;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.explode;

/**
 * Fits two towers on a table of interactions (customer, product, time), saves the fitted pipeline, loads it and
 * writes each customer's top 10 products. The interactions are generated: customers of group g buy products of
 * group g, so the share of recommendations inside the customer's own group shows whether the towers learned.
 *
 * <p>Usage: {@code QuickStart FOLDER} (the interactions, the model and the recommendations are written there).
 */
public final class QuickStart {
    private static final int GROUPS = 5;

    public static void main(String[] args) throws IOException {
        String folder = args[0];
        // Local mode on a small table: a few shuffle partitions rather than Spark's 200.
        SparkSession spark = SparkSession.builder().master("local[2]").appName("deep-retrieval quick start")
                .config("spark.sql.shuffle.partitions", 4).getOrCreate();

        // Your interactions: any table with a user, an item and (optionally) a time column.
        writeInteractions(spark, folder + "/interactions");
        Dataset<Row> interactions = spark.read().parquet(folder + "/interactions");

        TwoTowerRetrieval towers = new TwoTowerRetrieval()
                .setUserCol("customer").setItemCol("product").setTimestampCol("ts").setTitleCol("")
                .setLayerSizes(32).setEmbeddingDim(16).setBatchSize(256).setMaxEpochs(10)
                .setValidationFraction(0.2);
        PipelineModel fitted = new Pipeline().setStages(new PipelineStage[]{towers}).fit(interactions);
        TwoTowerRetrievalModel trained = (TwoTowerRetrievalModel) fitted.stages()[0];
        System.out.printf("validation recall@10 %.4f over %d users%n", trained.validationRanking().recallAtK(),
                trained.validationRanking().users());
        fitted.write().overwrite().save(folder + "/model");

        TwoTowerRetrievalModel model = (TwoTowerRetrievalModel) PipelineModel.load(folder + "/model").stages()[0];
        Dataset<Row> recommendations = model.recommendForAllUsers(10);   // customer, recommendations: [(product, score)]
        recommendations.write().mode("overwrite").parquet(folder + "/recommendations");

        Dataset<Row> pairs = spark.read().parquet(folder + "/recommendations")
                .select(col("customer"), explode(col("recommendations")).as("r"))
                .select(col("customer"), col("r.product").as("product"));
        long all = pairs.count();
        long inGroup = pairs.filter(col("customer").substr(3, 9).cast("int").mod(GROUPS)
                .equalTo(col("product").substr(3, 9).cast("int").mod(GROUPS))).count();
        System.out.printf("customers with recommendations %d%n", recommendations.count());
        System.out.printf("share of recommendations in the customer's group %.4f (chance %.4f)%n",
                (double) inGroup / all, 1.0 / GROUPS);
        spark.stop();
    }

    /** 6,000 purchases of 200 customers among 100 products; customer c-u buys products p-i with i % 5 == u % 5. */
    private static void writeInteractions(SparkSession spark, String path) {
        Random random = new Random(7);
        List<Row> rows = new ArrayList<>();
        for (int n = 0; n < 6000; n++) {
            int user = random.nextInt(200);
            int item = random.nextInt(100 / GROUPS) * GROUPS + user % GROUPS;
            rows.add(RowFactory.create("c-" + user, "p-" + item, 1_600_000_000L + random.nextInt(1_000_000)));
        }
        StructType schema = new StructType().add("customer", DataTypes.StringType).add("product", DataTypes.StringType)
                .add("ts", DataTypes.LongType);
        spark.createDataFrame(rows, schema).write().mode("overwrite").parquet(path);
    }
}
