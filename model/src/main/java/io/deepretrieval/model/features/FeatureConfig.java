package io.deepretrieval.model.features;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One declared input of a tower, as TorchRec declares its embedding tables: a named feature read from a column and
 * encoded by its kind. Written {@code [name=]column:kind[:size]}, e.g. {@code user=user_id:categorical},
 * {@code timestamp:timestamp:1000}, {@code title_token=title:text:10000}, {@code age:numeric}.
 *
 * @param name   unique within the model; names the embedding table ({@code <name>_table}) and the graph inputs
 * @param kind   how the column's values become tower inputs
 * @param column the input column (of the interactions for query features, of the item table for candidate ones)
 * @param size   {@link Kind#TIMESTAMP}: bucket boundaries; {@link Kind#TEXT}: vocabulary size, padding and
 *               {@code [UNK]} included; {@link Kind#CATEGORICAL}: largest vocabulary (the most frequent values;
 *               0 = every value); {@link Kind#NUMERIC}: unused (0)
 */
public record FeatureConfig(String name, Kind kind, String column, int size) implements java.io.Serializable {
    /** The tutorial's 1,000 timestamp boundaries. */
    public static final int DEFAULT_BUCKETS = 1000;
    /** The tutorial's 10,000 title tokens, padding and [UNK] included. */
    public static final int DEFAULT_TOKENS = 10_000;
    private static final Pattern NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_]*");
    private static final Pattern SYNTAX = Pattern.compile("(?:([^=:]+)=)?([^=:]+):([A-Za-z]+)(?::(\\d+))?");

    /** What a feature's values are and how they enter the tower. */
    public enum Kind {
        /** A vocabulary lookup (index 0 = out of vocabulary) → an embedding row. */
        CATEGORICAL,
        /** Tokens (a string, tokenised as Keras does, or an array of strings) → the mean of their embeddings. */
        TEXT,
        /** A number → normalised to zero mean and unit variance (Keras {@code Normalization}). */
        NUMERIC,
        /** Seconds → a bucket embedding ({@code linspace(min, max, size)} boundaries) and the normalised value. */
        TIMESTAMP
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
        }
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

    /** Parses {@code [name=]column:kind[:size]}; the name defaults to the column, the size to the kind's default. */
    public static FeatureConfig parse(String text) {
        Matcher m = SYNTAX.matcher(text == null ? "" : text.replaceAll("\\s*([=:])\\s*", "$1").strip());
        if (!m.matches()) {
            throw new IllegalArgumentException("feature '" + text + "' is not [name=]column:kind[:size]"
                    + " (kinds: categorical, text, numeric, timestamp)");
        }
        String column = m.group(2).strip();
        Kind kind;
        try {
            kind = Kind.valueOf(m.group(3).toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("feature '" + text + "': unknown kind '" + m.group(3)
                    + "' (kinds: categorical, text, numeric, timestamp)");
        }
        int size = m.group(4) != null ? Integer.parseInt(m.group(4)) : switch (kind) {
            case TIMESTAMP -> DEFAULT_BUCKETS;
            case TEXT -> DEFAULT_TOKENS;
            default -> 0;
        };
        return new FeatureConfig(m.group(1) == null ? column : m.group(1).strip(), kind, column, size);
    }

    /** The {@link #parse} form. */
    @Override
    public String toString() {
        String base = (name.equals(column) ? "" : name + "=") + column + ":" + kind.name().toLowerCase(Locale.ROOT);
        return kind == Kind.NUMERIC || (kind == Kind.CATEGORICAL && size == 0) ? base : base + ":" + size;
    }
}
