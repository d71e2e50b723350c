package io.deepretrieval.model.features;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One declared input of a tower, as TorchRec declares its embedding tables: a named feature read from a column and
 * encoded by its kind. Written {@code [name=]column:kind[:size][:shareWith=feature]}, e.g.
 * {@code user=user_id:categorical}, {@code timestamp:timestamp:1000}, {@code title_token=title:text:10000},
 * {@code age:numeric}, {@code recent=item_id:history:50:shareWith=item}.
 *
 * @param name   unique within the model; names the embedding table ({@code <name>_table}) and the graph inputs
 * @param kind   how the column's values become tower inputs
 * @param column the input column (of the interactions for query features, of the item table for candidate ones)
 * @param size   {@link Kind#TIMESTAMP}: bucket boundaries; {@link Kind#TEXT}: vocabulary size, padding and
 *               {@code [UNK]} included; {@link Kind#CATEGORICAL}: largest vocabulary (the most frequent values;
 *               0 = every value); {@link Kind#HISTORY}: the most recent items read (N); {@link Kind#NUMERIC}: unused (0)
 * @param shareWith {@link Kind#HISTORY} only, else null: the candidate feature (categorical, on the item column)
 *                  whose embedding table the history reads and trains, so an item has one embedding in both towers
 */
public record FeatureConfig(String name, Kind kind, String column, int size, String shareWith)
        implements java.io.Serializable {
    /** The tutorial's 1,000 timestamp boundaries. */
    public static final int DEFAULT_BUCKETS = 1000;
    /** The tutorial's 10,000 title tokens, padding and [UNK] included. */
    public static final int DEFAULT_TOKENS = 10_000;
    /** Items a history feature reads when its size is not given. */
    public static final int DEFAULT_HISTORY = 50;
    private static final Pattern NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_]*");
    private static final Pattern SYNTAX = Pattern.compile(
            "(?:([^=:]+)=)?([^=:]+):([A-Za-z]+)(?::(\\d+))?(?::shareWith=([^=:]+))?");
    private static final String KINDS = "kinds: categorical, text, numeric, timestamp, history";

    /** What a feature's values are and how they enter the tower. */
    public enum Kind {
        /** A vocabulary lookup (index 0 = out of vocabulary) → an embedding row. */
        CATEGORICAL,
        /** Tokens (a string, tokenised as Keras does, or an array of strings) → the mean of their embeddings. */
        TEXT,
        /** A number → normalised to zero mean and unit variance (Keras {@code Normalization}). */
        NUMERIC,
        /** Seconds → a bucket embedding ({@code linspace(min, max, size)} boundaries) and the normalised value. */
        TIMESTAMP,
        /**
         * A user's most recent items before the query (an array of item ids, oldest first; the last {@code size}
         * are read) → the masked mean of their embeddings; an empty history is the zero vector.
         */
        HISTORY
    }

    public FeatureConfig {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("feature name '" + name + "' must start with a letter and hold only"
                    + " letters, digits and '_'");
        }
        if (kind == null || column == null || column.isBlank()) {
            throw new IllegalArgumentException("feature '" + name + "' needs a kind and a column");
        }
        switch (kind) {
            case TIMESTAMP -> {
                if (size < 2) {
                    throw new IllegalArgumentException("feature '" + name + "': a timestamp needs >= 2 bucket boundaries, got " + size);
                }
            }
            case TEXT -> {
                if (size < 3) {
                    throw new IllegalArgumentException("feature '" + name + "': a text vocabulary needs >= 3 entries"
                            + " (padding, [UNK] and one token), got " + size);
                }
            }
            case CATEGORICAL -> {
                if (size < 0) {
                    throw new IllegalArgumentException("feature '" + name + "': vocabulary size must be >= 0 (0: all), got " + size);
                }
            }
            case NUMERIC -> {
                if (size != 0) {
                    throw new IllegalArgumentException("feature '" + name + "': a numeric feature takes no size, got " + size);
                }
            }
            case HISTORY -> {
                if (size < 1) {
                    throw new IllegalArgumentException("feature '" + name + "': a history reads >= 1 items, got " + size);
                }
            }
        }
        if (shareWith != null && (kind != Kind.HISTORY || !NAME.matcher(shareWith).matches())) {
            throw new IllegalArgumentException("feature '" + name + "': shareWith=" + shareWith + " needs a history"
                    + " feature and the name of a candidate feature");
        }
    }

    /** A feature with its own table. */
    public FeatureConfig(String name, Kind kind, String column, int size) {
        this(name, kind, column, size, null);
    }

    public static FeatureConfig categorical(String name, String column) {
        return new FeatureConfig(name, Kind.CATEGORICAL, column, 0);
    }

    public static FeatureConfig text(String name, String column, int vocabulary) {
        return new FeatureConfig(name, Kind.TEXT, column, vocabulary);
    }

    public static FeatureConfig numeric(String name, String column) {
        return new FeatureConfig(name, Kind.NUMERIC, column, 0);
    }

    public static FeatureConfig timestamp(String name, String column, int buckets) {
        return new FeatureConfig(name, Kind.TIMESTAMP, column, buckets);
    }

    /** The last {@code length} items of the user before the query; {@code shareWith} null for a table of its own. */
    public static FeatureConfig history(String name, String column, int length, String shareWith) {
        return new FeatureConfig(name, Kind.HISTORY, column, length, shareWith);
    }

    /**
     * The column a query row carries this feature's values in: a history declared on the item column is derived
     * from the interactions into a column named after the feature; every other feature reads its own column.
     */
    public String inputColumn(String itemColumn) {
        return derivedHistory(itemColumn) ? name : column;
    }

    /** Whether this is a history the pipeline builds from the interactions (declared on the item column). */
    public boolean derivedHistory(String itemColumn) {
        return kind == Kind.HISTORY && column.equals(itemColumn);
    }

    /** Parses {@code [name=]column:kind[:size]}; the name defaults to the column, the size to the kind's default. */
    public static FeatureConfig parse(String text) {
        Matcher m = SYNTAX.matcher(text == null ? "" : text.replaceAll("\\s*([=:])\\s*", "$1").strip());
        if (!m.matches()) {
            throw new IllegalArgumentException("feature '" + text + "' is not [name=]column:kind[:size][:shareWith=feature]"
                    + " (" + KINDS + ")");
        }
        String column = m.group(2).strip();
        Kind kind;
        try {
            kind = Kind.valueOf(m.group(3).toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("feature '" + text + "': unknown kind '" + m.group(3)
                    + "' (" + KINDS + ")");
        }
        int size = m.group(4) != null ? Integer.parseInt(m.group(4)) : switch (kind) {
            case TIMESTAMP -> DEFAULT_BUCKETS;
            case TEXT -> DEFAULT_TOKENS;
            case HISTORY -> DEFAULT_HISTORY;
            default -> 0;
        };
        return new FeatureConfig(m.group(1) == null ? column : m.group(1).strip(), kind, column, size, m.group(5));
    }

    /** The {@link #parse} form. */
    @Override
    public String toString() {
        String base = (name.equals(column) ? "" : name + "=") + column + ":" + kind.name().toLowerCase(Locale.ROOT);
        String sized = kind == Kind.NUMERIC || (kind == Kind.CATEGORICAL && size == 0) ? base : base + ":" + size;
        return shareWith == null ? sized : sized + ":shareWith=" + shareWith;
    }
}
