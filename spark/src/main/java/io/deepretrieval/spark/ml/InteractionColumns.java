package io.deepretrieval.spark.ml;

import io.deepretrieval.spark.preprocess.KeyColumns;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import io.deepretrieval.model.features.FeatureConfig;
import io.deepretrieval.model.features.TowerFeatures;

import java.io.Serializable;
import java.util.Arrays;
import java.util.List;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

/**
 * Which columns of a user's DataFrame hold the user, the item, the time and the item's title, and their mapping to
 * the key columns the preprocessing reads ({@link KeyColumns}).
 * Schema checks name the column and the type found.
 *
 * @param timestamp empty when the data has no time: every interaction then gets time 0
 * @param title     empty when items have no title: the item id is its title (a categorical feature)
 */
record InteractionColumns(String user, String item, String timestamp, String title) implements Serializable {
    private static final List<DataType> ID_TYPES = List.of(DataTypes.StringType, DataTypes.IntegerType,
            DataTypes.LongType, DataTypes.ShortType);
    private static final List<DataType> TIME_TYPES = List.of(DataTypes.IntegerType, DataTypes.LongType,
            DataTypes.TimestampType, DataTypes.DoubleType, DataTypes.FloatType);

    /** Checks the columns that fitting needs. */
    void checkForFit(StructType schema) {
        check(schema, user, "userCol", ID_TYPES);
        check(schema, item, "itemCol", ID_TYPES);
        if (!timestamp.isEmpty()) {
            check(schema, timestamp, "timestampCol", TIME_TYPES);
        }
        if (!title.isEmpty()) {
            check(schema, title, "titleCol", List.of(DataTypes.StringType));
        }
    }

    /** Checks the columns that the query tower needs (user, and time when {@code withTime}). */
    void checkForQueries(StructType schema, boolean withTime) {
        check(schema, user, "userCol", ID_TYPES);
        if (withTime && !timestamp.isEmpty()) {
            check(schema, timestamp, "timestampCol", TIME_TYPES);
        }
    }

    static void check(StructType schema, String name, String param, List<DataType> allowed) {
        if (!Arrays.asList(schema.fieldNames()).contains(name)) {
            throw new IllegalArgumentException(param + ": column '" + name + "' is missing; the DataFrame has "
                    + Arrays.toString(schema.fieldNames()));
        }
        StructField f = schema.apply(name);
        if (!allowed.contains(f.dataType())) {
            throw new IllegalArgumentException(param + ": column '" + name + "' has type " + f.dataType().simpleString()
                    + "; expected one of " + allowed.stream().map(DataType::simpleString).toList());
        }
    }

    /** Arrays of item ids, as a supplied history column may hold them. */
    static final List<DataType> HISTORY_TYPES = java.util.stream.Stream.of(DataTypes.StringType, DataTypes.IntegerType,
            DataTypes.LongType).<DataType>flatMap(t -> java.util.stream.Stream.of(DataTypes.createArrayType(t, true),
            DataTypes.createArrayType(t, false))).toList();

    private static final List<DataType> NUMBER_TYPES = List.of(DataTypes.IntegerType, DataTypes.LongType,
            DataTypes.ShortType, DataTypes.ByteType, DataTypes.DoubleType, DataTypes.FloatType);

    /** Checks a declared feature's column: present, of a type its kind reads, and not hiding a key column. */
    void checkFeature(StructType schema, FeatureConfig f, String param) {
        String what = param + " '" + f + "'";
        switch (f.kind()) {
            case CATEGORICAL -> check(schema, f.column(), what, java.util.stream.Stream.concat(ID_TYPES.stream(),
                    java.util.stream.Stream.of(DataTypes.BooleanType, DataTypes.ByteType)).toList());
            case NUMERIC -> check(schema, f.column(), what, NUMBER_TYPES);
            case TIMESTAMP -> check(schema, f.column(), what, TIME_TYPES);
            case TEXT -> check(schema, f.column(), what, List.of(DataTypes.StringType,
                    DataTypes.createArrayType(DataTypes.StringType, true), DataTypes.createArrayType(DataTypes.StringType, false)));
            case HISTORY -> {
                if (f.derivedHistory(item)) {
                    if (Arrays.asList(schema.fieldNames()).contains(f.name())) {
                        throw new IllegalArgumentException(what + ": the history is built into a column named '"
                                + f.name() + "', which the DataFrame already has; rename the feature or the column");
                    }
                } else {
                    check(schema, f.column(), what, HISTORY_TYPES);
                }
            }
        }
        String key = keys().get(f.column());
        if (key != null && !key.equals(f.column())) {
            throw new IllegalArgumentException(what + ": column '" + f.column() + "' is a name the trainer uses for"
                    + " its own key column (from '" + key + "'); rename it");
        }
    }

    /** The internal key columns and the input columns they come from. */
    private java.util.Map<String, String> keys() {
        return java.util.Map.of(KeyColumns.USER, user, KeyColumns.ITEM, item, KeyColumns.TIME, timestamp.isEmpty() ? "" : timestamp);
    }

    /**
     * The interactions as the key columns ({@link KeyColumns}: strings, strings, long seconds), the query features'
     * columns as they are, and {@code extra} (a column name, e.g. the validation indicator; empty: none).
     */
    Dataset<Row> ratings(Dataset<?> df, TowerFeatures features, String extra) {
        List<Column> cols = new java.util.ArrayList<>(List.of(col(user).cast("string").as(KeyColumns.USER),
                col(item).cast("string").as(KeyColumns.ITEM), time().as(KeyColumns.TIME)));
        features.query().stream().filter(f -> !f.derivedHistory(item)).map(FeatureConfig::column).distinct()
                .filter(c -> !keys().containsKey(c))
                .forEach(c -> cols.add(col(c)));
        if (!extra.isEmpty()) {
            cols.add(col(extra));
        }
        return df.select(cols.toArray(Column[]::new));
    }

    /** The distinct items as {@link KeyColumns#ITEM}, the label column and the candidate features' columns. */
    Dataset<Row> items(Dataset<?> df, TowerFeatures features) {
        List<Column> cols = new java.util.ArrayList<>(List.of(col(item).cast("string").as(KeyColumns.ITEM)));
        java.util.Set<String> added = new java.util.LinkedHashSet<>(List.of(KeyColumns.ITEM));
        for (FeatureConfig f : features.candidate()) {
            if (added.add(f.column())) {
                cols.add(col(f.column()));
            }
        }
        if (!title.isEmpty() && added.add(title)) {
            cols.add(col(title));
        }
        return df.select(cols.toArray(Column[]::new)).distinct();
    }

    /** The column of the items' display label: the title, else the item id. */
    String label() {
        return title.isEmpty() ? KeyColumns.ITEM : title;
    }

    /** Seconds as a long column (Spark timestamps cast to epoch seconds). */
    Column time() {
        return timestamp.isEmpty() ? lit(0L) : col(timestamp).cast("long");
    }
}
