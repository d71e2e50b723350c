package io.deepretrieval.model.serving;

/** A query whose embedding was not computed within the serving model's query timeout. */
public final class QueryTimeoutException extends RuntimeException {
    /** The timeout that passed, in milliseconds. */
    private final long timeoutMillis;

    /** A timeout of {@code timeoutMillis} milliseconds that passed. */
    public QueryTimeoutException(long timeoutMillis) {
        super("the query tower did not answer within " + timeoutMillis + " ms", null, false, false);
        this.timeoutMillis = timeoutMillis;
    }

    /** The timeout that passed, in milliseconds. */
    public long timeoutMillis() {
        return timeoutMillis;
    }
}
