package io.deepretrieval.spark.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.deepretrieval.model.io.ResidentMemory;
import io.deepretrieval.spark.SparkSessions;
import io.deepretrieval.spark.ingest.InputPolicy;
import io.deepretrieval.spark.ingest.MovieLensReader;
import io.deepretrieval.spark.preprocess.InteractionHistories;
import io.deepretrieval.spark.preprocess.KeyColumns;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

import static org.apache.spark.sql.functions.col;

/**
 * {@code bench-histories}: time and peak memory of building every interaction's history (what fitting a model with
 * a history feature does before training) and each user's latest items (what the model keeps), on a
 * MovieLens-shaped folder such as the {@code synthetic} command writes. One JSON line per figure on stdout.
 */
@Command(name = "bench-histories", mixinStandardHelpOptions = true,
        description = "Time building each interaction's N latest earlier items (window functions on the executors).")
final class BenchHistoriesCommand implements Callable<Integer> {
    @Option(names = "--data", required = true, description = "MovieLens-shaped folder (e.g. from 'synthetic')")
    String data;

    @Option(names = "--history", defaultValue = "50", description = "items per history, N (default: ${DEFAULT-VALUE})")
    int history;

    @Option(names = "--master", defaultValue = "local[*]", description = "(default: ${DEFAULT-VALUE})")
    String master;

    private final ObjectMapper json = new ObjectMapper();

    @Override
    public Integer call() throws Exception {
        OptionChecks.atLeast("--history", history, 1);
        try (SparkSession spark = SparkSessions.create(master, "deep-retrieval bench-histories")) {
            Dataset<Row> ratings = new MovieLensReader(spark, InputPolicy.FAIL_FAST).read(data).ratings()
                    .select(col("user_id").cast("string").as(KeyColumns.USER),
                            col("movie_id").cast("string").as(KeyColumns.ITEM),
                            col("timestamp").cast("long").as(KeyColumns.TIME));
            long rows = ratings.count();
            emit("rows", rows, "rows");
            long t0 = System.nanoTime();
            // Every row's history, written nowhere: the whole plan runs on the executors, nothing is collected.
            InteractionHistories.before(ratings, ratings, history, "history").write().format("noop").mode("overwrite").save();
            double seconds = (System.nanoTime() - t0) / 1e9;
            emit("histories_seconds", seconds, "s");
            emit("rows_per_second", rows / seconds, "rows/s");
            t0 = System.nanoTime();
            long users = InteractionHistories.latest(ratings, history, "history").count();
            emit("latest_per_user_seconds", (System.nanoTime() - t0) / 1e9, "s");
            emit("users", users, "users");
            emit("peak_rss_mb_driver_and_local_executors", ResidentMemory.peakBytes() / 1048576.0, "MB");
            Runtime rt = Runtime.getRuntime();
            emit("heap_used_mb_at_end", (rt.totalMemory() - rt.freeMemory()) / 1048576.0, "MB");
        }
        return 0;
    }

    private void emit(String metric, double value, String unit) throws Exception {
        System.out.println(json.writeValueAsString(json.createObjectNode().put("bench", "histories")
                .put("dataset", data).put("history", history).put("metric", metric).put("value", value)
                .put("unit", unit)));
    }
}
