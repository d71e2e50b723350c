package io.deepretrieval.model.train;

import io.deepretrieval.model.io.Causes;

/** Thrown when the loss becomes NaN or infinite; names where it happened. */
public final class NumericFault extends RuntimeException {
    public NumericFault(String message) {
        super(message);
    }

    /** The first {@code NumericFault} in {@code error}'s cause chain (itself included), or null. */
    public static NumericFault in(Throwable error) {
        return Causes.find(error, NumericFault.class);
    }
}
