package io.deepretrieval.spark.cli;

import io.deepretrieval.spark.config.ConfigException;
import io.deepretrieval.spark.ingest.MalformedInputException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Command-line entry point: {@code deep-retrieval sweep|train|recommend-all|download|bench|bench-recommend|bench-topk|recommend|serve|experiment ...}. */
@Command(name = "deep-retrieval", mixinStandardHelpOptions = true, versionProvider = BuildVersion.class,
        description = "Two-tower deep retrieval models on MovieLens: DL4J SameDiff towers, Spark preprocessing.",
        subcommands = {SweepCommand.class, TrainCommand.class, RecommendAllCommand.class, DownloadCommand.class,
                BenchCommand.class, BenchRecommendCommand.class, BenchTopKCommand.class, RecommendCommand.class,
                ServeCommand.class, ExperimentCommand.class, SyntheticCommand.class, BenchHistoriesCommand.class})
public final class Main {
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs a command and returns its exit code; input and configuration errors are one clear line, not a trace. */
    public static int run(String... args) {
        return commandLine().execute(args);
    }

    /** The command line with its error handling; tests reach a subcommand's instance through it. */
    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            MalformedInputException bad = MalformedInputException.find(e);
            if (bad != null) {
                cmd.getErr().println("error: " + bad.getMessage());
                return 2;
            }
            if (e instanceof ConfigException || e instanceof IllegalArgumentException) {
                cmd.getErr().println("error: " + e.getMessage());
                return 2;
            }
            if (e instanceof java.io.IOException) {
                cmd.getErr().println("error: " + e.getMessage());
                return 1;
            }
            throw e;
        });
        return cli;
    }
}
