package io.deepretrieval.model.train;

/** Thrown when the loss becomes NaN or infinite; names where it happened. */
public final class NumericFault extends RuntimeException {
    public NumericFault(String message) {
        super(message);
    }
}
