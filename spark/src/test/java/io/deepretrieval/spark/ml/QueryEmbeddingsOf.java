package io.deepretrieval.spark.ml;

import io.deepretrieval.spark.SparkSessions;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import static org.apache.spark.sql.functions.col;

/**
 * A fresh JVM's view of saved models: loads each and writes the query embeddings of the given queries as JSON
 * (args: queries Parquet, then pairs of model folder and output folder).
 */
public final class QueryEmbeddingsOf {
    private QueryEmbeddingsOf() {
    }

    public static void main(String[] args) {
        try (SparkSession spark = SparkSessions.create("local[2]", "query embeddings of saved models")) {
            Dataset<Row> queries = spark.read().parquet(args[0]);
            for (int i = 1; i + 1 < args.length; i += 2) {
                TwoTowerRetrievalModel model = TwoTowerRetrievalModel.load(args[i]);
                model.queryEmbeddings(queries).select(col(model.getOrDefault(model.userCol())), col("queryEmbedding"))
                        .coalesce(1).write().json(args[i + 1]);
            }
        }
    }
}
