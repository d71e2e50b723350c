package example;

import io.deepretrieval.spark.ml.TwoTowerRetrieval;
import io.deepretrieval.spark.ml.TwoTowerRetrievalModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.explode;

/**
 * Side features: the query tower reads the customer's region and age beside the id, the candidate tower the
 * product's category beside its id. Customers of region r buy products of category r, so a customer the model has
 * never seen, known only by region and age, gets products of the right category.
 *
 * <p>Usage: {@code SideFeatures FOLDER} (the interactions are written there).
 */
public final class SideFeatures {
    private static final int REGIONS = 4;

    public static void main(String[] args) {
        SparkSession spark = SparkSession.builder().master("local[2]").appName("deep-retrieval side features")
                .config("spark.sql.shuffle.partitions", 4).getOrCreate();
        writeInteractions(spark, args[0] + "/side-interactions");
        Dataset<Row> interactions = spark.read().parquet(args[0] + "/side-interactions");

        TwoTowerRetrieval towers = new TwoTowerRetrieval()
                .setUserCol("customer").setItemCol("product").setTimestampCol("ts").setTitleCol("")
                .setQueryFeatures("customer:categorical", "region:categorical", "age:numeric")
                .setCandidateFeatures("product:categorical", "category:categorical")
                .setLayerSizes(32).setBatchSize(256).setMaxEpochs(10).setValidationFraction(0);
        TwoTowerRetrievalModel model = towers.fit(interactions);

        // New customers: ids the model never saw, with their region and age.
        StructType schema = new StructType().add("customer", DataTypes.StringType)
                .add("region", DataTypes.StringType).add("age", DataTypes.DoubleType);
        List<Row> newcomers = new ArrayList<>();
        for (int n = 0; n < 40; n++) {
            newcomers.add(RowFactory.create("new-" + n, "r" + n % REGIONS, 20.0 + n));
        }
        Dataset<Row> recs = model.recommendForUserSubset(spark.createDataFrame(newcomers, schema), 10)
                .select(col("customer"), explode(col("recommendations")).as("r"))
                .select(col("customer"), col("r.product").as("product"));
        long all = recs.count();
        // Product p-i is of category c(i % REGIONS); newcomer new-n lives in region r(n % REGIONS).
        long right = recs.filter(col("customer").substr(5, 9).cast("int").mod(REGIONS)
                .equalTo(col("product").substr(3, 9).cast("int").mod(REGIONS))).count();
        System.out.printf("new customers' recommendations in their region's category %.4f (chance %.4f)%n",
                (double) right / all, 1.0 / REGIONS);
        model.release();
        spark.stop();
    }

    /** 6,000 purchases: customer c-u of region r(u % 4) buys products p-i of category c(i % 4) = its region. */
    private static void writeInteractions(SparkSession spark, String path) {
        Random random = new Random(11);
        List<Row> rows = new ArrayList<>();
        for (int n = 0; n < 6000; n++) {
            int user = random.nextInt(200);
            int item = random.nextInt(100 / REGIONS) * REGIONS + user % REGIONS;
            rows.add(RowFactory.create("c-" + user, "r" + user % REGIONS, 20.0 + user % 50, "p-" + item,
                    "c" + item % REGIONS, 1_600_000_000L + random.nextInt(1_000_000)));
        }
        StructType schema = new StructType().add("customer", DataTypes.StringType).add("region", DataTypes.StringType)
                .add("age", DataTypes.DoubleType).add("product", DataTypes.StringType)
                .add("category", DataTypes.StringType).add("ts", DataTypes.LongType);
        spark.createDataFrame(rows, schema).write().mode("overwrite").parquet(path);
    }
}
