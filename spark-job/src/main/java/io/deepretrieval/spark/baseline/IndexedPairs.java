package io.deepretrieval.spark.baseline;

import org.apache.spark.ml.feature.StringIndexer;
import org.apache.spark.ml.feature.StringIndexerModel;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.List;

import static org.apache.spark.sql.functions.col;

/**
 * User and item ids as the dense indices Spark's ALS and the popularity baseline read ({@code user_index},
 * {@code candidate}), fitted once over every row of a data set so that each side of a split encodes alike.
 */
public final class IndexedPairs {
    /** The encoded user column. */
    public static final String USER_INDEX = "user_index";
    /** The encoded item column. */
    public static final String CANDIDATE = "candidate";
    /** The item id column of {@link #itemIds}. */
    public static final String ITEM_LABEL = "item_label";

    private final String userCol;
    private final String itemCol;
    private final StringIndexerModel users;
    private final StringIndexerModel items;

    private IndexedPairs(String userCol, String itemCol, StringIndexerModel users, StringIndexerModel items) {
        this.userCol = userCol;
        this.itemCol = itemCol;
        this.users = users;
        this.items = items;
    }

    /** Indexers over the {@code userCol} and {@code itemCol} columns of {@code rows} (any types, read as strings). */
    public static IndexedPairs fit(Dataset<Row> rows, String userCol, String itemCol) {
        Dataset<Row> keys = keys(rows, userCol, itemCol);
        return new IndexedPairs(userCol, itemCol, new StringIndexer().setInputCol("_user").setOutputCol("_u").fit(keys),
                new StringIndexer().setInputCol("_item").setOutputCol("_i").fit(keys));
    }

    /** {@code rows} as {@code user_index, candidate} (cached: the baselines read them several times). */
    public Dataset<Row> encode(Dataset<Row> rows) {
        return items.transform(users.transform(keys(rows, userCol, itemCol)))
                .select(col("_u").cast("int").as(USER_INDEX), col("_i").cast("int").as(CANDIDATE)).cache();
    }

    /**
     * {@code rows} with {@value #USER_INDEX} added, the index of their {@code userColumn} (read as a string); a user
     * the indexer never saw gets the index after the last, which no model fitted on encoded rows knows.
     */
    public Dataset<Row> withUserIndex(Dataset<Row> rows, String userColumn) {
        // A copy, so that encode() still fails on an unknown user rather than giving it an index silently.
        StringIndexerModel keep = users.copy(ParamMap.empty()).setHandleInvalid("keep");
        return keep.transform(rows.withColumn("_user", col(userColumn).cast("string")))
                .withColumn(USER_INDEX, col("_u").cast("int")).drop("_user", "_u");
    }

    /** Every item's index and id: {@value #CANDIDATE} (int) and {@value #ITEM_LABEL} (the id as a string). */
    public Dataset<Row> itemIds(SparkSession spark) {
        String[] labels = items.labelsArray()[0];
        List<Row> rows = new ArrayList<>(labels.length);
        for (int i = 0; i < labels.length; i++) {
            rows.add(RowFactory.create(i, labels[i]));
        }
        return spark.createDataFrame(rows, new StructType().add(CANDIDATE, DataTypes.IntegerType, false)
                .add(ITEM_LABEL, DataTypes.StringType, false));
    }

    /** Number of distinct items: the candidates the baselines rank. */
    public int items() {
        return items.labelsArray()[0].length;
    }

    private static Dataset<Row> keys(Dataset<Row> rows, String userCol, String itemCol) {
        return rows.select(col(userCol).cast("string").as("_user"), col(itemCol).cast("string").as("_item"));
    }
}
