package io.deepretrieval.spark.baseline;

import io.deepretrieval.spark.TestSpark;
import io.deepretrieval.spark.eval.NextItemQueries;
import io.deepretrieval.spark.eval.RankingMetrics;
import io.deepretrieval.spark.preprocess.InteractionSplits;
import io.deepretrieval.spark.preprocess.KeyColumns;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What item-to-item costs on data of MovieLens 100k's size and shape on a temporal split (943 users active in
 * windows of the period, 1,682 items with a long tail, 100,000 rows; the latest 20% test): the similarities, each
 * setting of {@link ItemToItemBaseline.Grid#DEFAULT} on the per-user protocol and on the next-item protocol (every
 * test row a query with its full history). Run on demand only ({@code -Ddeepretrieval.timing=true}); it checks that
 * every setting answers.
 */
@EnabledIfSystemProperty(named = "deepretrieval.timing", matches = "true")
class ItemToItemTimingTest {
    private static final int USERS = 943;
    private static final int ITEMS = 1682;
    private static final int ROWS = 100_000;
    private static final long PERIOD = 1_000_000;

    /** Key rows: each user active in a window of the period (so later users have all their rows in the test part). */
    static Dataset<Row> movieLensShaped(SparkSession spark, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        long[] starts = new long[USERS];
        for (int u = 0; u < USERS; u++) {
            starts[u] = (long) (random.nextDouble() * PERIOD * 0.9);
        }
        List<Row> rows = new ArrayList<>(ROWS);
        for (int i = 0; i < ROWS; i++) {
            int u = (int) (USERS * Math.pow(random.nextDouble(), 1.4));
            int item = (int) (ITEMS * Math.pow(random.nextDouble(), 1.45));
            long time = starts[u] + (long) (random.nextDouble() * PERIOD * 0.1);
            rows.add(RowFactory.create("u" + u, "i" + item, time));
        }
        return spark.createDataFrame(rows, new StructType().add(KeyColumns.USER, DataTypes.StringType)
                .add(KeyColumns.ITEM, DataTypes.StringType).add(KeyColumns.TIME, DataTypes.LongType)).cache();
    }

    @Test
    void timesEverySettingOnBothProtocols() {
        SparkSession spark = TestSpark.session();
        InteractionSplits.Split split = InteractionSplits.KEYS.holdOut("temporal", movieLensShaped(spark, 5), 0, 0.2, 1);
        StringBuilder table = new StringBuilder();
        long start = System.nanoTime();
        NextItemQueries queries = NextItemQueries.of(split.train(), split.test());
        table.append(String.format(Locale.ROOT, "next-item queries: %d, longest history %d (%.1f s)%n", queries.count(),
                queries.longestHistory(), (System.nanoTime() - start) / 1e9));
        RankingMetrics metrics = new RankingMetrics(KeyColumns.USER, KeyColumns.ITEM);
        start = System.nanoTime();
        try (ItemToItemBaseline model = ItemToItemBaseline.fit(split.train())) {
            table.append(String.format(Locale.ROOT, "similarities: %.1f s%n", (System.nanoTime() - start) / 1e9));
            // Printed as they come: a slow setting shows which one it is.
            System.out.print("Item-to-item on " + ROWS + " rows, " + spark.sparkContext().master() + ":\n" + table);
            for (ItemToItemBaseline.Setting s : ItemToItemBaseline.Grid.DEFAULT.settings()) {
                long t0 = System.nanoTime();
                RankingMetrics.Result perUser = metrics.evaluate(model.recommend(s, 10), split.test(), 10);
                long t1 = System.nanoTime();
                RankingMetrics.Result next = queries.evaluate((q, n) -> model.recommendForQueries(q, s, n), 10);
                long t2 = System.nanoTime();
                assertTrue(next.users() == queries.count() && perUser.users() > 0);
                System.out.printf(Locale.ROOT, "%s: per-user %.1f s (NDCG@10 %.4f), next-item %.1f s"
                                + " (NDCG@10 %.4f)%n", s.label(), (t1 - t0) / 1e9, perUser.ndcgAtK(), (t2 - t1) / 1e9,
                        next.ndcgAtK());
            }
        } finally {
            queries.release();
        }
    }
}
