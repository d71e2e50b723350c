package io.deepretrieval.spark.cli;

import io.deepretrieval.spark.bench.SyntheticRatings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code synthetic}: write a seeded MovieLens-shaped data set of a given size, for benchmarks at scale. */
@Command(name = "synthetic", mixinStandardHelpOptions = true,
        description = "Write a seeded MovieLens-shaped synthetic set (ratings.csv + movies.csv) of N ratings into a folder.")
final class SyntheticCommand implements Callable<Integer> {
    @Option(names = "--ratings", required = true, description = "number of ratings")
    long ratings;

    @Option(names = "--dest", required = true, description = "target folder (an existing complete copy is kept)")
    Path dest;

    @Option(names = "--seed", defaultValue = "7", description = "(default: ${DEFAULT-VALUE}, as the bench's --synthetic)")
    long seed;

    @Override
    public Integer call() throws Exception {
        if (ratings < 1) {
            throw new IllegalArgumentException("--ratings " + ratings + ": must be >= 1");
        }
        System.out.println("Synthetic ratings are in " + SyntheticRatings.write(dest, ratings, seed).toAbsolutePath());
        return 0;
    }
}
