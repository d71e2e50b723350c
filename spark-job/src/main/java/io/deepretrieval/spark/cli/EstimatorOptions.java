package io.deepretrieval.spark.cli;

import io.deepretrieval.model.features.FeatureConfig;
import io.deepretrieval.model.features.TowerFeatures;
import io.deepretrieval.spark.ml.TwoTowerRetrieval;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntArrayParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.StringArrayParam;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The {@code train} command's options, made from the Estimator's params: one place for names, defaults and help.
 * Each param {@code fooBar} becomes {@code --foo-bar} (its documented default and doc as the help), with the
 * shorter names the CLI had before kept as the first name ({@code --layers} for {@code layerSizes}). A boolean
 * param that defaults to true becomes a {@code --no-...} flag.
 */
final class EstimatorOptions implements CommandLine.IModelTransformer {
    /** Names the CLI used before its options came from the params; each stays the option's first name. */
    private static final Map<String, String> SHORT_NAMES = Map.of(
            "timestampCol", "--time-col",
            "layerSizes", "--layers",
            "maxEpochs", "--epochs",
            "numWorkers", "--workers",
            "queryFeatures", "--query-feature",
            "candidateFeatures", "--candidate-feature",
            "logQCorrection", "--logq-correction",
            "refitAfterStopping", "--no-refit");

    /** The params and their defaults. */
    private static final TwoTowerRetrieval DEFAULTS = new TwoTowerRetrieval();

    @Override
    public CommandSpec transform(CommandSpec spec) {
        for (Param<?> p : DEFAULTS.params()) {
            spec.addOption(option(p));
        }
        return spec;
    }

    /** The Estimator's default of the param named as {@code p}, or null. */
    static Object defaultOf(Param<?> p) {
        Param<?> own = DEFAULTS.getParam(p.name());
        return DEFAULTS.getDefault(own).isDefined() ? DEFAULTS.getDefault(own).get() : null;
    }

    /** The option names of a param: its short name if it has one, then {@code --kebab-case}. */
    static List<String> names(Param<?> p) {
        boolean negated = p instanceof BooleanParam && Boolean.TRUE.equals(defaultOf(p));
        String kebab = (negated ? "--no-" : "--") + p.name().replaceAll("([a-z0-9])([A-Z])", "$1-$2")
                .replaceAll("([A-Z])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
        List<String> names = new ArrayList<>();
        if (SHORT_NAMES.containsKey(p.name())) {
            names.add(SHORT_NAMES.get(p.name()));
        }
        if (!names.contains(kebab)) {
            names.add(kebab);
        }
        return names;
    }

    private static OptionSpec option(Param<?> p) {
        Object value = defaultOf(p);
        OptionSpec.Builder b = OptionSpec.builder(names(p).toArray(String[]::new)).userObject(p.name());
        String shown = display(value);
        if (p instanceof BooleanParam) {
            b.arity("0").type(boolean.class);
            return b.description(p.doc() + (Boolean.TRUE.equals(value) ? " (on by default; this flag turns it off)" : ""))
                    .build();
        }
        if (p instanceof StringArrayParam) {
            b.type(List.class).auxiliaryTypes(String.class).paramLabel("VALUE");
            return b.description(p.doc() + " (repeat the option for several)").build();
        }
        b.type(String.class).paramLabel(p instanceof IntArrayParam ? "N,N,..." : "VALUE");
        return b.description(p.doc() + (shown.isEmpty() ? "" : " (default: " + shown + ")")).build();
    }

    /** A default as the option takes it ("64,32" for an int array). */
    static String display(Object value) {
        if (value instanceof int[] ints) {
            return Arrays.stream(ints).mapToObj(String::valueOf).collect(Collectors.joining(","));
        }
        if (value instanceof String[] strings) {
            return String.join(",", strings);
        }
        return value == null ? "" : String.valueOf(value);
    }

    /** Sets every param whose option was given on the command line. */
    static TwoTowerRetrieval apply(CommandSpec spec, TwoTowerRetrieval estimator) {
        CommandLine.ParseResult parsed = spec.commandLine().getParseResult();
        for (OptionSpec o : spec.options()) {
            if (!(o.userObject() instanceof String name) || !estimator.hasParam(name) || !parsed.hasMatchedOption(o)) {
                continue;
            }
            Param<Object> p = castParam(estimator.getParam(name));
            Object raw = o.getValue();
            try {
                estimator.set(p, convert(p, raw, o.longestName()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(String.join("/", o.names()) + " " + display(raw) + ": "
                        + readable(e.getMessage(), p), e);
            }
        }
        return estimator;
    }

    /** Spark's "uid parameter p given invalid value v." as what the value must be: the param's doc. */
    private static String readable(String message, Param<?> p) {
        return message.matches("(?s)\\S+ parameter \\w+ given invalid value .*")
                ? "not a valid " + p.name() + " (" + p.doc() + ")" : message;
    }

    /**
     * The checks the Estimator makes of several params together only once {@code fit} has read the data (features,
     * id dropout, rate schedule, early stopping, temporal split), made here before Spark starts, each naming its
     * options.
     */
    static void checkCombined(TwoTowerRetrieval e) {
        TowerFeatures features;
        try {
            features = e.towerFeatures();
        } catch (IllegalArgumentException x) {
            throw new IllegalArgumentException(optionNames(e.queryFeatures()) + " / "
                    + optionNames(e.candidateFeatures()) + ": "
                    + x.getMessage().replaceFirst("^queryFeatures / candidateFeatures: ", ""), x);
        }
        double idDropout = (Double) e.getOrDefault(e.idDropout());
        String userCol = e.getOrDefault(e.userCol());
        if (idDropout > 0 && features.query().stream()
                .noneMatch(f -> f.column().equals(userCol) && f.kind() == FeatureConfig.Kind.CATEGORICAL)) {
            throw new IllegalArgumentException(optionNames(e.idDropout()) + " " + idDropout + ": needs a categorical "
                    + optionNames(e.queryFeatures()) + " on " + optionNames(e.userCol()) + " '" + userCol + "'");
        }
        Set<Integer> epochs = new HashSet<>();
        for (String entry : e.getOrDefault(e.learningRateSchedule())) {
            Integer epoch = scheduledEpoch(entry);
            if (epoch == null) {
                throw new IllegalArgumentException(optionNames(e.learningRateSchedule()) + " " + entry
                        + ": must be epoch:rate with an epoch >= 1 and a finite rate > 0 (e.g. 100:0.05)");
            }
            if (!epochs.add(epoch)) {
                throw new IllegalArgumentException(optionNames(e.learningRateSchedule()) + " " + entry
                        + ": epoch " + epoch + " is given twice");
            }
        }
        int k = (Integer) e.getOrDefault(e.earlyStoppingK());
        int[] topK = e.getOrDefault(e.topK());
        if ((Integer) e.getOrDefault(e.earlyStoppingPatience()) > 0 && Arrays.stream(topK).noneMatch(t -> t == k)) {
            throw new IllegalArgumentException(optionNames(e.earlyStoppingK()) + " " + k + ": is not one of "
                    + optionNames(e.topK()) + " " + display(topK) + ", which early stopping reads it from");
        }
        double fraction = (Double) e.getOrDefault(e.validationFraction());
        boolean temporal = e.getOrDefault(e.validationSplit()).equals("temporal");
        if (temporal && e.getOrDefault(e.validationIndicatorCol()).isEmpty() && !(fraction > 0)) {
            throw new IllegalArgumentException(optionNames(e.validationSplit()) + " temporal: needs "
                    + optionNames(e.validationFraction()) + " > 0 (is " + fraction + ")");
        }
    }

    /** The epoch of a learning-rate schedule entry epoch:rate (epoch >= 1, finite rate > 0), or null. */
    private static Integer scheduledEpoch(String entry) {
        String[] parts = entry.split(":");
        try {
            if (parts.length != 2) {
                return null;
            }
            int epoch = Integer.parseInt(parts[0].strip());
            double rate = Double.parseDouble(parts[1].strip());
            return epoch >= 1 && rate > 0 && !Double.isInfinite(rate) ? epoch : null;
        } catch (NumberFormatException x) {
            return null;
        }
    }

    /** A param's option names as errors show them, e.g. "--epochs/--max-epochs". */
    private static String optionNames(Param<?> p) {
        return String.join("/", names(p));
    }

    @SuppressWarnings("unchecked")
    private static Param<Object> castParam(Param<?> p) {
        return (Param<Object>) p;
    }

    private static Object convert(Param<?> p, Object raw, String option) {
        if (p instanceof BooleanParam) {
            // A --no-... flag turns a default-true param off; any other flag turns its param on.
            return !option.startsWith("--no-");
        }
        if (p instanceof StringArrayParam) {
            return ((List<?>) raw).stream().map(String::valueOf).toArray(String[]::new);
        }
        String s = String.valueOf(raw).strip();
        try {
            if (p instanceof IntArrayParam) {
                return Arrays.stream(s.split(",")).map(String::strip).mapToInt(Integer::parseInt).toArray();
            }
            if (p instanceof IntParam) {
                return Integer.parseInt(s);
            }
            if (p instanceof LongParam) {
                return Long.parseLong(s);
            }
            if (p instanceof DoubleParam) {
                double d = Double.parseDouble(s);
                if (!Double.isFinite(d)) {
                    // Spark's validators let Infinity through (and NaN for a param without one).
                    throw new IllegalArgumentException("'" + s + "' is not a finite number");
                }
                return d;
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + s + "' is not " + (p instanceof IntArrayParam
                    ? "a comma-separated list of integers" : p instanceof DoubleParam ? "a number" : "an integer"));
        }
        return s;
    }
}
