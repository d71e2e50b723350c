package io.deepretrieval.model.features;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/** Keras {@code TextVectorization}'s default standardisation: lowercase, strip punctuation, split on whitespace. */
public final class TitleTokenizer {
    // The ASCII punctuation set Keras strips ("lower_and_strip_punctuation").
    private static final Pattern PUNCTUATION = Pattern.compile("[!\"#$%&()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~']");
    private static final Pattern WHITESPACE = Pattern.compile("\\s+");

    private TitleTokenizer() {
    }

    /** Tokens of a title, in order; empty for a blank title. */
    public static List<String> tokenize(String title) {
        String cleaned = PUNCTUATION.matcher(title.toLowerCase(Locale.ROOT)).replaceAll("").strip();
        if (cleaned.isEmpty()) {
            return List.of();
        }
        return Arrays.asList(WHITESPACE.split(cleaned));
    }
}
