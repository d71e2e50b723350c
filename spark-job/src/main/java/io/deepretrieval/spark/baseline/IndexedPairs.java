package io.deepretrieval.spark.baseline;

import org.apache.spark.ml.feature.StringIndexer;
import org.apache.spark.ml.feature.StringIndexerModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

import static org.apache.spark.sql.functions.col;

/**
 * User and item ids as the dense indices Spark's ALS and the popularity baseline read ({@code user_index},
 * {@code candidate}), fitted once over every row of a data set so that each side of a split encodes alike.
 */
public final class IndexedPairs {
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
                .select(col("_u").cast("int").as("user_index"), col("_i").cast("int").as("candidate")).cache();
    }

    /** Number of distinct items: the candidates the baselines rank. */
    public int items() {
        return items.labelsArray()[0].length;
    }

    private static Dataset<Row> keys(Dataset<Row> rows, String userCol, String itemCol) {
        return rows.select(col(userCol).cast("string").as("_user"), col(itemCol).cast("string").as("_item"));
    }
}
