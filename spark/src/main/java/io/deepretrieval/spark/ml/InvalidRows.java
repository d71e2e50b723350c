package io.deepretrieval.spark.ml;

import io.deepretrieval.model.features.FeatureConfig;
import io.deepretrieval.model.features.TowerFeatures;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.isnan;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

/**
 * The input rows a fit cannot use: a null user, item or time, or a null, NaN or infinite value in a column a
 * declared feature (or the title) reads. {@code handleInvalid} decides, as in Spark's {@code StringIndexer}:
 * {@code error} stops the fit with the count per column, {@code skip} leaves those rows out and logs the count.
 * One aggregation pass counts them.
 */
final class InvalidRows {
    private static final Logger LOG = LoggerFactory.getLogger(InvalidRows.class);

    private InvalidRows() {
    }

    /** The rows a fit goes on with, and what was left out of them. */
    record Handled(Dataset<Row> rows, SkippedRows skipped) {
    }

    /** {@code df} without its invalid rows (skip), or unchanged when it has none; error: an exception naming them. */
    static Handled handle(Dataset<?> df, InteractionColumns cols, TowerFeatures features, String policy) {
        Map<String, String> checked = checkedColumns(cols, features);
        Column anyBad = lit(false);
        for (String c : checked.keySet()) {
            anyBad = anyBad.or(bad(df, c));
        }
        List<Column> counts = new ArrayList<>(List.of(count(lit(1)), sum(when(anyBad, 1).otherwise(0))));
        for (String c : checked.keySet()) {
            counts.add(sum(when(bad(df, c), 1).otherwise(0)));
        }
        Row r = df.agg(counts.get(0), counts.subList(1, counts.size()).toArray(Column[]::new)).first();
        long rows = r.getLong(0);
        long left = r.isNullAt(1) ? 0 : r.getLong(1);
        List<String> found = new ArrayList<>();
        int i = 2;
        for (Map.Entry<String, String> e : checked.entrySet()) {
            long n = r.isNullAt(i) ? 0 : r.getLong(i);
            i++;
            if (n > 0) {
                found.add(n + (n == 1 ? " row has " : " rows have ") + what(df, e.getKey()) + " in " + e.getValue());
            }
        }
        if (rows == 0) {
            throw new IllegalArgumentException("the DataFrame has no rows: there is nothing to fit");
        }
        Dataset<Row> all = df.toDF();
        if (found.isEmpty()) {
            return new Handled(all, SkippedRows.none(rows));
        }
        if (policy.equals("error")) {
            throw new IllegalArgumentException("handleInvalid error: of " + rows + " rows, " + String.join("; ", found)
                    + "; clean them, or set handleInvalid to skip to leave such rows out (counted in the log)");
        }
        if (left == rows) {
            throw new IllegalArgumentException("handleInvalid skip: all " + rows + " rows are invalid ("
                    + String.join("; ", found) + "); there is nothing to fit");
        }
        Dataset<Row> kept = all.filter(not(anyBad));
        LOG.warn("handleInvalid skip: left out {} of {} rows ({}): {}", left, rows,
                String.format(Locale.ROOT, "%.2f%%", 100.0 * left / rows), String.join("; ", found));
        return new Handled(kept, new SkippedRows(rows, left, found));
    }

    /** Each input column a row needs, with the setting that names it. */
    private static Map<String, String> checkedColumns(InteractionColumns cols, TowerFeatures features) {
        Map<String, String> out = new LinkedHashMap<>();
        out.put(cols.user(), "userCol '" + cols.user() + "'");
        out.put(cols.item(), "itemCol '" + cols.item() + "'");
        if (!cols.timestamp().isEmpty()) {
            out.put(cols.timestamp(), "timestampCol '" + cols.timestamp() + "'");
        }
        if (!cols.title().isEmpty()) {
            out.putIfAbsent(cols.title(), "titleCol '" + cols.title() + "'");
        }
        for (FeatureConfig f : features.query()) {
            if (!f.derivedHistory(cols.item())) {
                out.putIfAbsent(f.column(), "queryFeatures '" + f + "' column '" + f.column() + "'");
            }
        }
        for (FeatureConfig f : features.candidate()) {
            out.putIfAbsent(f.column(), "candidateFeatures '" + f + "' column '" + f.column() + "'");
        }
        return out;
    }

    private static Column bad(Dataset<?> df, String c) {
        Column v = col(c);
        return isFloating(df, c) ? v.isNull().or(isnan(v)).or(v.equalTo(Double.POSITIVE_INFINITY))
                .or(v.equalTo(Double.NEGATIVE_INFINITY)) : v.isNull();
    }

    private static String what(Dataset<?> df, String c) {
        return isFloating(df, c) ? "a null, NaN or infinite value" : "a null";
    }

    private static boolean isFloating(Dataset<?> df, String c) {
        DataType t = df.schema().apply(c).dataType();
        return t.equals(DataTypes.DoubleType) || t.equals(DataTypes.FloatType);
    }
}
