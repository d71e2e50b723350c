package io.deepretrieval.spark.cli;

import io.deepretrieval.model.serving.Recommendation;
import io.deepretrieval.model.serving.ServingModel;
import io.deepretrieval.spark.ingest.MalformedInputException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;

/** {@code recommend}: top-k movies for a user from a saved model; Spark only reads the model. */
@Command(name = "recommend", mixinStandardHelpOptions = true,
        description = "Print the top-k movies for a user from a saved model (a TwoTowerRetrievalModel folder, e.g. from"
                + " 'train --out', or a PipelineModel folder holding one).")
final class RecommendCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "saved model folder, or PipelineModel folder holding one")
    Path model;

    @Option(names = "--user", required = true, description = "user id as in the ratings")
    String user;

    @Option(names = "--time", description = "unix timestamp of the query (default: the latest timestamp seen in training)")
    Long time;

    @Option(names = "--history", split = ",", description = "the user's recent item ids, oldest first (comma-separated),"
            + " for a model whose query tower reads a history (default: the user's history kept with the model)")
    List<String> history;

    @Option(names = "--k", defaultValue = "10", description = "how many movies (default: ${DEFAULT-VALUE})")
    int k;

    @Option(names = "--exclude-seen", description = "leave out movies the user already rated (needs --ratings)")
    boolean excludeSeen;

    @Option(names = "--ratings", description = "ratings file (u.data or ratings.csv) for --exclude-seen")
    Path ratings;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (k < 1) {
            throw new IllegalArgumentException("--k must be >= 1, got " + k);
        }
        if (excludeSeen && ratings == null) {
            throw new IllegalArgumentException("--exclude-seen needs --ratings FILE");
        }
        OptionChecks.requires(spec, "--ratings", "--exclude-seen");
        long loadStart = System.nanoTime();
        try (ServingModel saved = ServeCommand.load(model)) {
            double loadMs = (System.nanoTime() - loadStart) / 1e6;
            print(saved, loadMs);
        }
        return 0;
    }

    private void print(ServingModel saved, double loadMs) throws IOException {
        if (history != null && !saved.readsHistory()) {
            throw new IllegalArgumentException("--history: the model's query tower reads no history");
        }
        if (!saved.knowsUser(user)) {
            System.err.println("warning: user " + user + " is not in the model's vocabulary; answering with the"
                    + " out-of-vocabulary user embedding");
        }
        Set<String> seen = excludeSeen ? seenBy(user, ratings) : Set.of();
        long at = time != null ? time : saved.latestTimestamp();
        saved.recommend(user, at, history, k, seen); // first query warms the graph
        long start = System.nanoTime();
        List<Recommendation> top = saved.recommend(user, at, history, k, seen);
        double queryMs = (System.nanoTime() - start) / 1e6;
        for (int i = 0; i < top.size(); i++) {
            Recommendation r = top.get(i);
            System.out.printf(Locale.ROOT, "%2d. %-60s %8.4f  (movie %s)%n", i + 1, r.label(), r.score(), r.itemId());
        }
        System.err.printf(Locale.ROOT, "model loaded in %.0f ms; query answered in %.2f ms%s%n", loadMs, queryMs,
                excludeSeen ? " (" + seen.size() + " seen movies excluded)" : "");
    }

    /** Movie ids the user rated, from a u.data (tab) or ratings.csv (comma) file. */
    private static Set<String> seenBy(String user, Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new MalformedInputException("--ratings: file " + file + " does not exist");
        }
        Set<String> seen = new HashSet<>();
        try (var lines = Files.lines(file)) {
            lines.forEach(line -> {
                String[] f = line.split(line.indexOf('\t') >= 0 ? "\t" : ",");
                if (f.length >= 2 && f[0].strip().equals(user)) {
                    seen.add(f[1].strip());
                }
            });
        }
        return seen;
    }
}
