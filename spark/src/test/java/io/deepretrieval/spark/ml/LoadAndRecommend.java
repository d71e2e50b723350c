package io.deepretrieval.spark.ml;

import io.deepretrieval.spark.SparkSessions;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.sql.SparkSession;

/** A fresh JVM's view of a saved pipeline: loads it and writes every user's top-k as JSON (args: model, out, k). */
public final class LoadAndRecommend {
    private LoadAndRecommend() {
    }

    public static void main(String[] args) {
        try (SparkSession spark = SparkSessions.create("local[2]", "load and recommend")) {
            TwoTowerRetrievalModel model = (TwoTowerRetrievalModel) PipelineModel.load(args[0]).stages()[0];
            model.recommendForAllUsers(Integer.parseInt(args[2])).coalesce(1).write().json(args[1]);
        }
    }
}
