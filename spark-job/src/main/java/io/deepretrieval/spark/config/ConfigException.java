package io.deepretrieval.spark.config;

import java.util.List;

/** Invalid configuration: every problem found, each naming its setting. */
public final class ConfigException extends RuntimeException {
    private final List<String> problems;

    public ConfigException(String source, List<String> problems) {
        super("invalid configuration" + (source == null ? "" : " in " + source) + ":\n  - " + String.join("\n  - ", problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
