package io.deepretrieval.spark.cli;

import io.deepretrieval.spark.baseline.AlsBaseline;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The experiment's ALS grid options: their defaults are the experiment grid, and each list sets its part. */
class ExperimentGridOptionsTest {
    private static ExperimentCommand parse(String... args) {
        ExperimentCommand command = new ExperimentCommand();
        new CommandLine(command).parseArgs(args);
        return command;
    }

    @Test
    void defaultsAreTheExperimentGrid() {
        assertEquals(AlsBaseline.Grid.EXPERIMENT, parse("--out", "x").alsGrid());
    }

    @Test
    void eachOptionSetsItsListIterationsIncluded() {
        AlsBaseline.Grid grid = parse("--out", "x", "--als-ranks", "8", "--als-regs", "0.5", "--als-alphas", "2,3",
                "--als-iters", "5,15").alsGrid();
        assertEquals(new AlsBaseline.Grid(List.of(8), List.of(0.5), List.of(2.0, 3.0), List.of(5, 15)), grid);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> parse("--out", "x", "--als-iters", "0").alsGrid());
        assertTrue(e.getMessage().startsWith("--als-ranks / --als-regs / --als-alphas / --als-iters: ALS grid iteration"
                + " counts [0]"), e.getMessage());
    }
}
