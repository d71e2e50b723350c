package io.deepretrieval.spark.baseline;

import io.deepretrieval.spark.eval.NextItemQueries;
import io.deepretrieval.spark.eval.RankingMetrics;
import io.deepretrieval.spark.preprocess.InteractionHistories;
import io.deepretrieval.spark.preprocess.KeyColumns;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.slice;
import static org.apache.spark.sql.functions.sort_array;
import static org.apache.spark.sql.functions.sqrt;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.sum;

/**
 * Item-to-item collaborative filtering, the classic neighbourhood baseline: two items are similar when the same users
 * have both, by the cosine of their user sets, {@code |U(i) ∩ U(j)| / sqrt(|U(i)| |U(j)|)} over the training rows,
 * each item keeping at most its {@code neighbours} most similar others. A user's score for an item is the sum of its
 * similarities to the items of the user's history (their {@code historyLength} most recent training items), the
 * user's training items left out. Unlike ALS it needs no factors for a user, only a history, so it also answers
 * users whose every row came after training (the next-item protocol, {@link #recommendForQueries}).
 *
 * <p>Everything runs on the executors: the co-occurrence counts are a self-join of the distinct (user, item) pairs on
 * the user (its size is the sum over users of their item count squared), the similarities are computed once per
 * fit and cached with each neighbour's rank, and every ranking is a join of histories with them.
 *
 * <p>Rows are in {@link KeyColumns} (user and item ids as strings, the time a long); recommendations are in ALS's
 * output schema: the id column and {@value RankingMetrics#RECOMMENDATIONS}, {@code array<struct<item, score>>}, best
 * first, ties to the smaller item id.
 */
public final class ItemToItemBaseline implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ItemToItemBaseline.class);
    /** No limit: a history of all of a user's training items, or every neighbour an item has. */
    public static final int ALL = Integer.MAX_VALUE;
    /** The history length when none is chosen. */
    public static final int DEFAULT_HISTORY = 50;
    /** The neighbour's item id column of {@link #similarities()}. */
    public static final String NEIGHBOUR = "neighbour";
    /** The cosine similarity column of {@link #similarities()}. */
    public static final String SIMILARITY = "similarity";
    /** The neighbour's rank among the item's neighbours (1 = most similar) in {@link #similarities()}. */
    public static final String RANK = "neighbour_rank";

    private final Dataset<Row> train;
    private final Dataset<Row> pairs;
    private final Dataset<Row> similarities;

    /** A history length and a cap on neighbours per item ({@link #ALL}: none). */
    public record Setting(int historyLength, int neighbours) {
        /** Both at least 1. */
        public Setting {
            if (historyLength < 1 || neighbours < 1) {
                throw new IllegalArgumentException("item-to-item history length " + historyLength + " and neighbours "
                        + neighbours + ": each must be >= 1");
            }
        }

        /** How the reports name it. */
        public String label() {
            return "item-to-item (history " + (historyLength == ALL ? "all" : historyLength) + ", neighbours "
                    + (neighbours == ALL ? "all" : neighbours) + ")";
        }
    }

    /** The settings tuned over: every combination of history length and neighbour cap. */
    public record Grid(List<Integer> historyLengths, List<Integer> neighbours) {
        /**
         * Histories of the last 10, the last 50 or all training items; 20 or 50 neighbours per item. A short history
         * follows a user's current taste, a long one their whole profile; capping neighbours drops the weak
         * co-occurrences that popular items have with everything. The caps are what the next-item protocol can
         * afford, whose cost is queries × history × neighbours: {@code ItemToItemTimingTest} measured 86 s for 10
         * × 20 and 219 s for 10 × 100 on 20,000 queries of ML-100k's size (2 shared cores), so 100 or all
         * neighbours with long histories would take from tens of minutes to hours per split and seed.
         */
        public static final Grid DEFAULT = new Grid(List.of(10, DEFAULT_HISTORY, ALL), List.of(20, 50));

        /** Non-empty lists. */
        public Grid {
            historyLengths = List.copyOf(historyLengths);
            neighbours = List.copyOf(neighbours);
            if (historyLengths.isEmpty() || neighbours.isEmpty()) {
                throw new IllegalArgumentException("item-to-item grid: history lengths " + historyLengths
                        + " and neighbours " + neighbours + " each need at least one value");
            }
        }

        /** Every combination, history lengths outermost (each checked by {@link Setting}). */
        public List<Setting> settings() {
            List<Setting> out = new ArrayList<>();
            for (int h : historyLengths) {
                for (int n : neighbours) {
                    out.add(new Setting(h, n));
                }
            }
            return out;
        }
    }

    /** The setting chosen on a validation slice and its figures there (at K). */
    public record Tuned(Setting setting, int k, double validationRecall, double validationNdcg) {
    }

    private ItemToItemBaseline(Dataset<Row> train, Dataset<Row> pairs, Dataset<Row> similarities) {
        this.train = train;
        this.pairs = pairs;
        this.similarities = similarities;
    }

    /** The similarities of the items in {@code train} ({@link KeyColumns} rows; other columns are ignored). */
    public static ItemToItemBaseline fit(Dataset<Row> train) {
        Dataset<Row> keys = train.select(col(KeyColumns.USER).cast("string").as(KeyColumns.USER),
                        col(KeyColumns.ITEM).cast("string").as(KeyColumns.ITEM), col(KeyColumns.TIME).cast("long").as(KeyColumns.TIME))
                .filter(col(KeyColumns.USER).isNotNull().and(col(KeyColumns.ITEM).isNotNull()));
        // A repeated interaction counts once: the cosine is of user sets.
        Dataset<Row> pairs = keys.select(KeyColumns.USER, KeyColumns.ITEM).distinct().persist(StorageLevel.MEMORY_AND_DISK());
        Dataset<Row> users = pairs.groupBy(KeyColumns.ITEM).count();
        Dataset<Row> together = pairs.select(col(KeyColumns.USER), col(KeyColumns.ITEM).as("_i"))
                .join(pairs.select(col(KeyColumns.USER), col(KeyColumns.ITEM).as("_j")), KeyColumns.USER)
                .filter(col("_i").notEqual(col("_j")))
                .groupBy("_i", "_j").count();
        Column cosine = col("count").divide(sqrt(col("_ni").multiply(col("_nj"))));
        Dataset<Row> cosines = together
                .join(users.select(col(KeyColumns.ITEM).as("_i"), col("count").as("_ni")), "_i")
                .join(users.select(col(KeyColumns.ITEM).as("_j"), col("count").as("_nj")), "_j")
                .select(col("_i").as(KeyColumns.ITEM), col("_j").as(NEIGHBOUR), cosine.as(SIMILARITY));
        // Ranked once per fit, so that each neighbour cap is a filter; ties to the smaller id keep it deterministic.
        Dataset<Row> ranked = cosines.withColumn(RANK, row_number().over(Window.partitionBy(KeyColumns.ITEM)
                        .orderBy(col(SIMILARITY).desc(), col(NEIGHBOUR))))
                .persist(StorageLevel.MEMORY_AND_DISK());
        LOG.info("Item-to-item: {} item pairs with a common user", ranked.count());
        return new ItemToItemBaseline(keys, pairs, ranked);
    }

    /**
     * The similarities: {@link KeyColumns#ITEM}, {@value #NEIGHBOUR}, {@value #SIMILARITY} (cosine, in (0, 1]) and
     * {@value #RANK}; pairs with no common user are absent.
     */
    public Dataset<Row> similarities() {
        return similarities;
    }

    /**
     * The top {@code k} items of every training user ({@link KeyColumns#USER} and
     * {@value RankingMetrics#RECOMMENDATIONS}), from the user's {@code historyLength} most recent training items
     * ({@link InteractionHistories#latest}; ties in time by item id), every training item of the user left out.
     * A user gets fewer than {@code k} items when fewer have a similarity to the history.
     */
    public Dataset<Row> recommend(Setting setting, int k) {
        Dataset<Row> recent = setting.historyLength() == ALL ? pairs
                : InteractionHistories.latest(train, setting.historyLength(), "_history")
                .select(col(KeyColumns.USER), explode(col("_history")).as(KeyColumns.ITEM)).distinct();
        return top(recent, pairs, KeyColumns.USER, setting.neighbours(), k);
    }

    /**
     * The next-item protocol's item-to-item ({@link NextItemQueries.Recommender}): each query scored from the last
     * {@code historyLength} items of its history (which may hold rows after training: the similarities are the
     * training rows', the history what is known at the query's time), the history's items left out, top
     * {@code n}. Columns: {@value NextItemQueries#QUERY} and {@value RankingMetrics#RECOMMENDATIONS}; a query
     * whose history is empty or has no similar items gets no row.
     */
    public Dataset<Row> recommendForQueries(Dataset<Row> queries, Setting setting, int n) {
        Column history = col(NextItemQueries.HISTORY);
        Column last = setting.historyLength() == ALL ? history
                : slice(history, greatest(lit(1), size(history).minus(setting.historyLength() - 1)),
                lit(setting.historyLength()));
        Dataset<Row> recent = queries.select(col(NextItemQueries.QUERY), explode(last).as(KeyColumns.ITEM)).distinct();
        Dataset<Row> seen = queries.select(col(NextItemQueries.QUERY), explode(history).as(KeyColumns.ITEM));
        return top(recent, seen, NextItemQueries.QUERY, setting.neighbours(), n);
    }

    /**
     * Chooses the setting of {@code grid} with the best per-user NDCG@{@code k} on {@code validation} (the first of
     * equal ones), the similarities and histories coming from {@code fit}; both are {@link KeyColumns} rows. Each
     * setting's recall and NDCG are logged.
     */
    public static Tuned tune(Dataset<Row> fit, Dataset<Row> validation, Grid grid, int k) {
        RankingMetrics metrics = new RankingMetrics(KeyColumns.USER, KeyColumns.ITEM);
        Tuned best = null;
        try (ItemToItemBaseline model = fit(fit)) {
            for (Setting s : grid.settings()) {
                long start = System.nanoTime();
                RankingMetrics.Result r = metrics.evaluate(model.recommend(s, k), validation, k);
                LOG.info("{}: validation recall@{} {}, NDCG@{} {} ({} s)", s.label(), k, r.recallAtK(), k, r.ndcgAtK(),
                        Math.round((System.nanoTime() - start) / 1e9));
                if (best == null || r.ndcgAtK() > best.validationNdcg()) {
                    best = new Tuned(s, k, r.recallAtK(), r.ndcgAtK());
                }
            }
        }
        LOG.info("Item-to-item: {} chosen by NDCG@{} on the validation slice", best.setting().label(), k);
        return best;
    }

    /** Frees the cached pairs and similarities. */
    @Override
    public void close() {
        similarities.unpersist();
        pairs.unpersist();
    }

    /**
     * Per id of {@code recent} (id, item), the sum of similarities from its items over each item's first
     * {@code neighbours} neighbours, the items of {@code seen} (id, item) left out, the best {@code k} as ALS's lists.
     */
    private Dataset<Row> top(Dataset<Row> recent, Dataset<Row> seen, String id, int neighbours, int k) {
        Dataset<Row> near = neighbours == ALL ? similarities : similarities.filter(col(RANK).leq(neighbours));
        Dataset<Row> scores = recent.join(near, KeyColumns.ITEM)
                .groupBy(col(id), col(NEIGHBOUR).as(KeyColumns.ITEM))
                .agg(sum(col(SIMILARITY)).as(NextItemQueries.SCORE))
                .join(seen, new String[]{id, KeyColumns.ITEM}, "left_anti");
        Dataset<Row> best = scores.withColumn("_pos", row_number().over(Window.partitionBy(col(id))
                        .orderBy(col(NextItemQueries.SCORE).desc(), col(KeyColumns.ITEM))))
                .filter(col("_pos").leq(k));
        Column rec = struct(col(KeyColumns.ITEM).as(NextItemQueries.ITEM), col(NextItemQueries.SCORE));
        // The position carries the order through collect_list, which does not keep it by itself.
        return best.groupBy(col(id)).agg(sort_array(collect_list(struct(col("_pos"), rec.as("_rec"))))
                .getField("_rec").as(RankingMetrics.RECOMMENDATIONS));
    }
}
