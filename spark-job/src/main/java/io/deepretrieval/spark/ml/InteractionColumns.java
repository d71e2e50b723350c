package io.deepretrieval.spark.ml;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.io.Serializable;
import java.util.Arrays;
import java.util.List;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

/**
 * Which columns of a user's DataFrame hold the user, the item, the time and the item's title, and their mapping to
 * the internal names the preprocessing reads ({@code user_id}, {@code movie_id}, {@code timestamp}, {@code title}).
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

    /** Checks the columns that the query tower needs (user, and time when the model has one). */
    void checkForQueries(StructType schema) {
        check(schema, user, "userCol", ID_TYPES);
        if (!timestamp.isEmpty()) {
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

    /** The interactions as {@code user_id, movie_id, timestamp} (strings, strings, long seconds). */
    Dataset<Row> ratings(Dataset<?> df) {
        return df.select(col(user).cast("string").as("user_id"), col(item).cast("string").as("movie_id"),
                time().as("timestamp"));
    }

    /** The distinct items as {@code movie_id, title}. */
    Dataset<Row> items(Dataset<?> df) {
        Column t = title.isEmpty() ? col(item).cast("string") : col(title);
        return df.select(col(item).cast("string").as("movie_id"), t.as("title")).distinct();
    }

    /** Seconds as a long column (Spark timestamps cast to epoch seconds). */
    Column time() {
        return timestamp.isEmpty() ? lit(0L) : col(timestamp).cast("long");
    }
}
