package io.deepretrieval.spark.ingest;

/** What to do with a malformed input line (names as Spark's CSV reader modes). */
public enum InputPolicy {
    /** Stop at the first malformed line, naming file, line and text. */
    FAIL_FAST("failFast"),
    /** Skip malformed lines and report how many, with the first few, in the run's summary. */
    DROP_MALFORMED("dropMalformed");

    private final String configName;

    InputPolicy(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    public static InputPolicy fromConfig(String name) {
        for (InputPolicy p : values()) {
            if (p.configName.equals(name)) {
                return p;
            }
        }
        throw new IllegalArgumentException("inputPolicy: '" + name + "' is not failFast or dropMalformed");
    }
}
