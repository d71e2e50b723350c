package io.deepretrieval.spark.ingest;

import io.deepretrieval.model.io.Causes;

/**
 * Bad input data, located: the file, the 1-based line number (0 when not known) and the offending text, quoted
 * at most {@value #QUOTED} characters long (a line can be megabytes) with control characters but tabs escaped.
 */
public final class MalformedInputException extends RuntimeException {
    /** The most characters of a line's text a message quotes. */
    static final int QUOTED = 200;

    public MalformedInputException(String file, long line, String problem, String text) {
        super(file + (line > 0 ? ":" + line : "") + ": " + problem
                + (text == null ? "" : " (line text: \"" + abbreviate(text, QUOTED) + "\")"));
    }

    public MalformedInputException(String message) {
        super(message);
    }

    /**
     * {@code s} cut to {@code max} characters, followed by "… (N characters)" when it was longer, with ISO control
     * characters other than tab written as {@code \}{@code uXXXX} so that reports and terminals show them.
     */
    static String abbreviate(String s, int max) {
        String head = s.length() <= max ? s : s.substring(0, max);
        StringBuilder out = new StringBuilder(head.length() + 24);
        for (int i = 0; i < head.length(); i++) {
            char c = head.charAt(i);
            if (Character.isISOControl(c) && c != '\t') {
                out.append(String.format("\\u%04X", (int) c));
            } else {
                out.append(c);
            }
        }
        return s.length() <= max ? out.toString() : out.append("… (").append(s.length()).append(" characters)").toString();
    }

    /** The first MalformedInputException in a cause chain (Spark wraps task failures), or null. */
    public static MalformedInputException find(Throwable t) {
        return Causes.find(t, MalformedInputException.class);
    }
}
