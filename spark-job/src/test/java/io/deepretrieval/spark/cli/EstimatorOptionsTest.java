package io.deepretrieval.spark.cli;

import io.deepretrieval.spark.ml.TwoTowerRetrieval;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.Param;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code train}'s options are the Estimator's params: every one, with its default and doc, parsed into it. */
class EstimatorOptionsTest {
    private static CommandLine train() {
        return Main.commandLine().getSubcommands().get("train");
    }

    @Test
    void everyParamIsAnOptionWithItsDefaultAndDoc() {
        CommandLine train = train();
        StringWriter help = new StringWriter();
        train.usage(new PrintWriter(help));
        String text = help.toString().replaceAll("\\s+", " ");
        TwoTowerRetrieval estimator = new TwoTowerRetrieval();
        for (Param<?> p : estimator.params()) {
            List<String> names = EstimatorOptions.names(p);
            for (String name : names) {
                assertTrue(train.getCommandSpec().findOption(name) != null, p.name() + ": no option " + name);
            }
            String firstWords = p.doc().replaceAll("\\s+", " ").substring(0, Math.min(40, p.doc().length()));
            assertTrue(text.contains(firstWords), p.name() + "'s doc is not in the help: " + firstWords);
            Object value = estimator.getDefault(p).get();
            if (!(p instanceof BooleanParam) && !EstimatorOptions.display(value).isEmpty() && !(value instanceof String[])) {
                assertTrue(text.contains("(default: " + EstimatorOptions.display(value) + ")"),
                        p.name() + ": default " + EstimatorOptions.display(value) + " not in the help");
            }
        }
    }

    @Test
    void givenOptionsSetTheirParamsAndTheRestKeepTheEstimatorsDefaults() {
        CommandLine top = Main.commandLine();
        CommandLine train = top.getSubcommands().get("train");
        top.parseArgs("train", "--out", "m", "--layers", "64,32", "--epochs", "7", "--logq-correction", "--no-refit",
                "--query-feature", "a:categorical", "--query-feature", "b:numeric", "--temperature", "0.5",
                "--cold-start-strategy", "drop", "--top-k", "5,10", "--learning-rate-schedule", "3:0.01");
        TwoTowerRetrieval e = EstimatorOptions.apply(train.getCommandSpec(), new TwoTowerRetrieval());
        assertArrayEquals(new int[]{64, 32}, e.getOrDefault(e.layerSizes()));
        assertEquals(7, (int) e.getOrDefault(e.maxEpochs()));
        assertEquals(true, e.getOrDefault(e.logQCorrection()));
        assertEquals(false, e.getOrDefault(e.refitAfterStopping()));
        assertArrayEquals(new String[]{"a:categorical", "b:numeric"}, e.getOrDefault(e.queryFeatures()));
        assertEquals(0.5, (double) e.getOrDefault(e.temperature()));
        assertEquals("drop", e.getOrDefault(e.coldStartStrategy()));
        assertArrayEquals(new int[]{5, 10}, e.getOrDefault(e.topK()));
        assertArrayEquals(new String[]{"3:0.01"}, e.getOrDefault(e.learningRateSchedule()));
        // Not given: not set, so the Estimator's default applies.
        assertFalse(e.isSet(e.batchSize()));
        assertFalse(e.isSet(e.removeAccidentalHits()));
    }

    @Test
    void aBadValueIsAnErrorNamingTheOptionAndNothingIsTrained() {
        CliRun.Result zero = CliRun.run("train", "--ratings", "none.csv", "--epochs", "0", "--out", "m");
        assertEquals(2, zero.exitCode(), zero.err());
        assertTrue(zero.err().contains("--epochs/--max-epochs 0"), zero.err());
        CliRun.Result word = CliRun.run("train", "--ratings", "none.csv", "--temperature", "warm", "--out", "m");
        assertEquals(2, word.exitCode(), word.err());
        assertTrue(word.err().contains("--temperature warm: 'warm' is not a number"), word.err());
        CliRun.Result strategy = CliRun.run("train", "--ratings", "none.csv", "--cold-start-strategy", "zero", "--out", "m");
        assertEquals(2, strategy.exitCode(), strategy.err());
        assertTrue(strategy.err().contains("--cold-start-strategy zero"), strategy.err());
    }
}
