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
    private final StringIndexerModel users;
    private final StringIndexerModel items;

    private IndexedPairs(StringIndexerModel users, StringIndexerModel items) {
        this.users = users;
        this.items = items;
    }

    /** Indexers over the {@code user_id} and {@code movie_id} columns of {@code rows} (any types, read as strings). */
    public static IndexedPairs fit(Dataset<Row> rows) {
        Dataset<Row> keys = keys(rows);
        return new IndexedPairs(new StringIndexer().setInputCol("user_id").setOutputCol("_u").fit(keys),
                new StringIndexer().setInputCol("movie_id").setOutputCol("_i").fit(keys));
    }

    /** {@code rows} as {@code user_index, candidate} (cached: the baselines read them several times). */
    public Dataset<Row> encode(Dataset<Row> rows) {
        return items.transform(users.transform(keys(rows)))
                .select(col("_u").cast("int").as("user_index"), col("_i").cast("int").as("candidate")).cache();
    }

    /** Number of distinct items: the candidates the baselines rank. */
    public int items() {
        return items.labelsArray()[0].length;
    }

    private static Dataset<Row> keys(Dataset<Row> rows) {
        return rows.select(col("user_id").cast("string").as("user_id"), col("movie_id").cast("string").as("movie_id"));
    }
}
