package io.deepretrieval.spark.logging;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.Filter;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.impl.Log4jLogEvent;
import org.apache.logging.log4j.message.SimpleMessage;
import org.junit.jupiter.api.Test;

import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The ND4J warnings the log configurations mute are exactly the known ones: other warnings of those loggers show. */
class MutedWarningsTest {
    private static final String DIFF_FN = "org.nd4j.autodiff.functions.DifferentialFunction";
    private static final String TF_IMPORT = "org.nd4j.imports.converters.ImportClassMapping";
    private static final String BITCAST = "No fields found for property name newType for class org.nd4j.linalg.api.ops.custom.BitCast";
    private static final String DUPLICATE = "Duplicate TF op mapping found for op Pow: org.nd4j.linalg.api.ops.impl.scalar.Pow"
            + " vs org.nd4j.linalg.api.ops.impl.transforms.custom.Pow";

    private static Filter.Result decide(Configuration config, String logger, String message) {
        LoggerConfig lc = config.getLoggerConfig(logger);
        assertEquals(logger, lc.getName(), "a logger entry of its own");
        assertTrue(lc.getLevel().isLessSpecificThan(Level.WARN), logger + " must let warnings through");
        Filter f = lc.getFilter();
        return f == null ? Filter.Result.NEUTRAL : f.filter(Log4jLogEvent.newBuilder().setLoggerName(logger)
                .setLevel(Level.WARN).setMessage(new SimpleMessage(message)).build());
    }

    @Test
    void theApplicationConfigurationMutesOnlyTheTwoKnownMessages() {
        Configuration config = ((LoggerContext) LogManager.getContext(false)).getConfiguration();
        assertTrue(config.getName().contains("log4j2.xml") || config.getConfigurationSource().toString().contains("log4j2.xml"),
                "spark-job's log4j2.xml is the configuration under test: " + config.getConfigurationSource());
        assertEquals(Filter.Result.DENY, decide(config, DIFF_FN, BITCAST));
        assertEquals(Filter.Result.DENY, decide(config, TF_IMPORT, DUPLICATE));
        assertNotEquals(Filter.Result.DENY, decide(config, DIFF_FN, "No fields found for property name axis for class Foo"));
        assertNotEquals(Filter.Result.DENY, decide(config, TF_IMPORT, "Some other import problem"));
    }

    @Test
    void theDockerConfigurationMutesTheSameMessagesAndNoOthers() throws Exception {
        Properties props = new Properties();
        try (var in = java.nio.file.Files.newInputStream(java.nio.file.Path.of("..", "docker", "log4j2.properties"))) {
            props.load(in);
        }
        java.util.regex.Pattern bitcast = java.util.regex.Pattern.compile(props.getProperty("logger.difffn.filter.bitcast.regex"));
        java.util.regex.Pattern duplicate = java.util.regex.Pattern.compile(props.getProperty("logger.tfimport.filter.dup.regex"));
        assertEquals(DIFF_FN, props.getProperty("logger.difffn.name"));
        assertEquals(TF_IMPORT, props.getProperty("logger.tfimport.name"));
        assertTrue(bitcast.matcher(BITCAST).matches());
        assertTrue(duplicate.matcher(DUPLICATE).matches());
        assertTrue(!bitcast.matcher("No fields found for property name axis for class Foo").matches());
        assertEquals(null, props.getProperty("logger.difffn.level"), "the logger keeps the root's warning level");
    }
}
