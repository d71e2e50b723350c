package io.deepretrieval.spark.preprocess;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.MapType;

import java.util.ArrayList;
import java.util.List;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.row_number;

/**
 * One row per user, chosen as a function of the data: unlike {@code dropDuplicates}, whose survivor depends on
 * partitioning and task order, the choice does not change when the same rows arrive in other partitions.
 */
public final class OneRowPerUser {
    private static final String RANK = "_one_row_per_user";

    private OneRowPerUser() {
    }

    /**
     * Each user's row with the latest {@code timeCol} (null: no time, any column order decides), ties broken by
     * the other columns in ascending order (nulls first), so that exact duplicates are the only rows that tie.
     */
    public static Dataset<Row> latest(Dataset<Row> rows, String userCol, String timeCol) {
        List<Column> order = new ArrayList<>();
        if (timeCol != null) {
            order.add(col(timeCol).desc_nulls_last());
        }
        for (String c : rows.columns()) {
            if (!c.equals(userCol) && !c.equals(timeCol) && orderable(rows, c)) {
                order.add(col(c).asc_nulls_first());
            }
        }
        if (order.isEmpty()) {
            return rows.dropDuplicates(userCol); // the user column alone: every row of a user is the same row
        }
        return rows.withColumn(RANK, row_number().over(Window.partitionBy(col(userCol)).orderBy(order.toArray(Column[]::new))))
                .filter(col(RANK).equalTo(1)).drop(RANK);
    }

    /** Maps cannot be ordered by Spark; arrays, structs and atomic types can. */
    private static boolean orderable(Dataset<Row> rows, String c) {
        return !(rows.schema().apply(c).dataType() instanceof MapType);
    }
}
