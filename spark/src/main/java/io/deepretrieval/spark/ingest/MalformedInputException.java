package io.deepretrieval.spark.ingest;

import io.deepretrieval.model.io.Causes;

/** Bad input data, located: the file, the 1-based line number (0 when not known) and the offending text. */
public final class MalformedInputException extends RuntimeException {
    public MalformedInputException(String file, long line, String problem, String text) {
        super(file + (line > 0 ? ":" + line : "") + ": " + problem + (text == null ? "" : " (line text: \"" + abbreviate(text) + "\")"));
    }

    public MalformedInputException(String message) {
        super(message);
    }

    private static String abbreviate(String s) {
        return s.length() <= 120 ? s : s.substring(0, 117) + "...";
    }

    /** The first MalformedInputException in a cause chain (Spark wraps task failures), or null. */
    public static MalformedInputException find(Throwable t) {
        return Causes.find(t, MalformedInputException.class);
    }
}
