package io.deepretrieval.spark.cli;

import io.deepretrieval.spark.TestSpark;
import io.deepretrieval.spark.ml.TwoTowerRetrievalModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static io.deepretrieval.spark.BruteForceScores.floats;
import static io.deepretrieval.spark.BruteForceScores.itemEmbeddings;
import static io.deepretrieval.spark.BruteForceScores.topIds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code train} with a history feature, then {@code recommend-all --histories}: users the model never saw are
 * recommended from the histories in the table, and each list equals a brute-force score of the loaded model's
 * query embedding of that history against its item embeddings.
 */
class HistoryCommandsTest {
    @Test
    void trainWithAHistoryThenRecommendForUnseenUsersFromTheirHistories(@TempDir Path tmp) throws Exception {
        SparkSession spark = TestSpark.session();
        int items = 40;
        SplittableRandom rng = new SplittableRandom(4);
        List<Row> rows = new ArrayList<>();
        for (int u = 0; u < 150; u++) {
            int at = rng.nextInt(items);
            for (int s = 0; s < 8; s++) {
                rows.add(RowFactory.create("u" + u, "i" + at, 1000L * u + s));
                at = (at * 7 + 3) % items; // a fixed successor of every item
            }
        }
        String ratings = tmp.resolve("seq.parquet").toString();
        spark.createDataFrame(rows, new StructType().add("user", DataTypes.StringType).add("item", DataTypes.StringType)
                .add("ts", DataTypes.LongType)).write().parquet(ratings);
        String model = tmp.resolve("model").toString();
        CliRun.Result train = CliRun.run("train", "--ratings", ratings, "--user-col", "user", "--item-col", "item",
                "--time-col", "ts", "--title-col", "", "--query-feature", "recent=item:history:2:shareWith=item",
                "--candidate-feature", "item:categorical", "--layers", "16", "--embedding-dim", "8", "--epochs", "3",
                "--batch-size", "128", "--master", "local[2]", "--out", model);
        assertEquals(0, train.exitCode(), train.err());

        Path histories = tmp.resolve("histories.json");
        Files.writeString(histories, "{\"user\": \"new1\", \"recent\": [\"i1\", \"i10\"]}\n"
                + "{\"user\": \"new2\", \"recent\": [\"i5\"]}\n{\"user\": \"u3\", \"recent\": []}\n");
        String out = tmp.resolve("recs").toString();
        CliRun.Result all = CliRun.run("recommend-all", "--model", model, "--histories", histories.toString(), "--k", "5",
                "--master", "local[2]", "--out", out);
        assertEquals(0, all.exitCode(), all.err());

        spark = TestSpark.session(); // the commands stop the session they ran in
        Map<String, List<String>> got = new HashMap<>();
        for (Row r : spark.read().parquet(out).collectAsList()) {
            got.put(r.getString(0), r.<Row>getList(1).stream().map(x -> x.getString(0)).toList());
        }
        assertEquals(3, got.size(), "one row per user of the table: " + got);
        TwoTowerRetrievalModel loaded = TwoTowerRetrievalModel.load(model);
        Dataset<Row> table = spark.read().json(histories.toString());
        Map<String, float[]> embeddings = itemEmbeddings(loaded);
        for (Row q : loaded.queryEmbeddings(table).collectAsList()) {
            String user = q.getString(q.fieldIndex("user"));
            assertEquals(topIds(embeddings, floats(q.getList(q.fieldIndex("queryEmbedding"))), 5), got.get(user), "user " + user);
        }
        assertTrue(!got.get("new1").equals(got.get("new2")), "different histories, different lists: " + got);

        // recommend (the Spark-free serving path) answers the same history with the same list.
        PrintStream stdout = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
        CliRun.Result one;
        try {
            one = CliRun.run("recommend", "--model", model, "--user", "new1", "--history", "i1,i10", "--k", "5");
        } finally {
            System.setOut(stdout);
        }
        assertEquals(0, one.exitCode(), one.err());
        List<String> listed = printed.toString(StandardCharsets.UTF_8).lines().filter(l -> l.contains("(movie "))
                .map(l -> l.substring(l.indexOf("(movie ") + 7, l.lastIndexOf(')'))).toList();
        assertEquals(got.get("new1"), listed, printed.toString(StandardCharsets.UTF_8));
    }
}
