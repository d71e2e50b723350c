package io.deepretrieval.spark.cli;

import picocli.CommandLine.Model.CommandSpec;

import java.util.function.Supplier;

/**
 * Checks of option values that a command makes before any work (before Spark starts). A failure is an
 * {@link IllegalArgumentException} naming the option and its value, which {@link Main} reports as one line with exit
 * code 2, as picocli's own usage errors.
 */
final class OptionChecks {
    private OptionChecks() {
    }

    /** Fails unless {@code value >= min}. */
    static void atLeast(String option, long value, long min) {
        if (value < min) {
            throw new IllegalArgumentException(option + " " + value + ": must be >= " + min);
        }
    }

    /** As {@link #atLeast(String, long, long)} for an option without a default: nothing to check when not given. */
    static void atLeast(String option, Integer value, long min) {
        if (value != null) {
            atLeast(option, value.longValue(), min);
        }
    }

    /** Fails unless {@code low < value < high} (a NaN fails too). */
    static void between(String option, double value, double low, double high) {
        if (!(value > low && value < high)) {
            throw new IllegalArgumentException(option + " " + value + ": must be > " + low + " and < " + high);
        }
    }

    /** Fails unless {@code value} is finite and {@code >= 0}. */
    static void nonNegative(String option, double value) {
        if (!(value >= 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(option + " " + value + ": must be a finite number >= 0");
        }
    }

    /** Whether {@code option} was on the command line (an option with a default reads the same either way). */
    static boolean given(CommandSpec spec, String option) {
        return spec.commandLine().getParseResult().hasMatchedOption(option);
    }

    /** Fails when {@code option} was given together with any of {@code others}; {@code why} ends the message. */
    static void excludes(CommandSpec spec, String option, String why, String... others) {
        if (!given(spec, option)) {
            return;
        }
        for (String other : others) {
            if (given(spec, other)) {
                throw new IllegalArgumentException(option + " cannot be combined with " + other + ": " + why);
            }
        }
    }

    /** Fails when {@code option} was given without {@code needed}, which it only modifies. */
    static void requires(CommandSpec spec, String option, String needed) {
        if (given(spec, option) && !given(spec, needed)) {
            throw new IllegalArgumentException(option + " needs " + needed + " (it has no effect without it)");
        }
    }

    /** The value {@code make} builds with its own checks, a failure of which names the option and its value. */
    static <T> T checked(String option, Object value, Supplier<T> make) {
        try {
            return make.get();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(option + " " + value + ": " + e.getMessage(), e);
        }
    }
}
