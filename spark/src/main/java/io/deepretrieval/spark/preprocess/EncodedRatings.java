package io.deepretrieval.spark.preprocess;

import io.deepretrieval.model.features.FittedFeature;
import io.deepretrieval.model.features.CandidateCorpus;
import io.deepretrieval.model.features.FeatureSpec;
import io.deepretrieval.model.features.Interactions;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.List;

import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.col;

/**
 * Applies a fitted {@link FeatureSpec} to ratings: the candidate corpus, each rating's candidate record, the model's
 * inputs per partition.
 */
public final class EncodedRatings {
    public static final StructType CANDIDATE_RECORDS = new StructType()
            .add(KeyColumns.ITEM, DataTypes.StringType, false)
            .add("candidate", DataTypes.IntegerType, false);

    private EncodedRatings() {
    }

    /**
     * The candidate corpus: every item record, in item-id order (record i = i-th smallest id; numeric ids in
     * numeric order, others after them in string order), encoded with the spec's candidate features.
     *
     * @param items       {@link KeyColumns#ITEM} (string), {@code labelColumn} and the candidate features' columns
     * @param labelColumn the records' display label (the title in the tutorial)
     */
    public static CandidateCorpus corpus(FeatureSpec spec, Dataset<Row> items, String labelColumn) {
        List<String> columns = spec.candidateColumns();
        List<Column> select = new ArrayList<>(List.of(col(KeyColumns.ITEM), col(labelColumn).cast("string")));
        columns.forEach(c -> select.add(col(c)));
        List<Row> rows = items.orderBy(col(KeyColumns.ITEM).cast("long").asc_nulls_last(), col(KeyColumns.ITEM))
                .select(select.toArray(Column[]::new)).collectAsList();
        List<String> ids = new ArrayList<>(rows.size());
        List<String> labels = new ArrayList<>(rows.size());
        for (Row r : rows) {
            ids.add(r.getString(0));
            labels.add(r.isNullAt(1) ? r.getString(0) : r.getString(1));
        }
        return CandidateCorpus.encode(spec, ids, labels, (r, f) -> RowValues.get(rows.get(r), 2 + f));
    }

    /**
     * Ratings whose items are all in the corpus, with their candidate record: the key columns ({@link KeyColumns}),
     * the query features' columns, {@code candidate},
     * and {@code user_index} (the user's vocabulary index) when the query tower has a user feature.
     * The query features are encoded where the rows are used ({@link #interactions}), by the same code serving uses.
     */
    public static Dataset<Row> encode(SparkSession spark, FeatureSpec spec, CandidateCorpus corpus, Dataset<Row> ratings) {
        List<Row> records = new ArrayList<>();
        for (int i = 0; i < corpus.size(); i++) {
            records.add(RowFactory.create(corpus.itemId(i), i));
        }
        Dataset<Row> recordIndex = spark.createDataFrame(records, CANDIDATE_RECORDS);
        Dataset<Row> joined = ratings.join(broadcast(recordIndex), ratings.col(KeyColumns.ITEM).equalTo(recordIndex.col(KeyColumns.ITEM)))
                .drop(recordIndex.col(KeyColumns.ITEM));
        java.util.LinkedHashSet<String> columns = new java.util.LinkedHashSet<>(List.of(KeyColumns.USER, KeyColumns.ITEM, KeyColumns.TIME));
        columns.addAll(spec.queryColumns());
        columns.add("candidate");
        Dataset<Row> encoded = joined.select(columns.stream().map(org.apache.spark.sql.functions::col).toArray(Column[]::new));
        FittedFeature user = spec.userFeature();
        if (user == null) {
            return encoded;
        }
        // The user's vocabulary index as an integer id, for the ALS baseline (which needs integer users).
        return encoded.withColumn("user_index", org.apache.spark.sql.functions.udf(
                (org.apache.spark.sql.api.java.UDF1<Object, Integer>) user::index, DataTypes.IntegerType)
                .apply(org.apache.spark.sql.functions.col(user.column())));
    }


    /** The encoded rows of each partition as model inputs, in DataFrame order (one {@link Interactions} per partition). */
    public static JavaRDD<Interactions> interactions(Dataset<Row> encoded, FeatureSpec spec) {
        List<String> columns = new ArrayList<>(spec.queryColumns());
        columns.add("candidate");
        int width = columns.size() - 1;
        return encoded.select(columns.stream().map(org.apache.spark.sql.functions::col).toArray(Column[]::new))
                .javaRDD().mapPartitions(it -> {
                    List<Row> rows = new ArrayList<>();
                    it.forEachRemaining(rows::add);
                    int[] candidates = new int[rows.size()];
                    for (int i = 0; i < candidates.length; i++) {
                        candidates[i] = rows.get(i).getInt(width);
                    }
                    return List.of(new Interactions(
                            spec.encodeQueries(rows.size(), (r, c) -> RowValues.get(rows.get(r), c)), candidates)).iterator();
                });
    }

    /** Brings encoded rows to the driver as model inputs, in DataFrame order, encoded partition by partition. */
    public static Interactions collect(Dataset<Row> encoded, FeatureSpec spec) {
        List<Interactions> parts = new ArrayList<>();
        interactions(encoded, spec).toLocalIterator().forEachRemaining(parts::add);
        return Interactions.concat(spec, parts);
    }
}
