package io.deepretrieval.model.train;

import io.deepretrieval.model.features.CandidateCorpus;
import io.deepretrieval.model.features.FeatureSpec;
import io.deepretrieval.model.features.FittedFeature;
import io.deepretrieval.model.features.TowerFeatures;
import io.deepretrieval.model.features.Interactions;
import io.deepretrieval.model.features.TimestampBuckets;
import io.deepretrieval.model.features.TitleTokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * A small retrieval problem with a planted preference: users of group g watch movies whose titles carry the word
 * of group g. Built without Spark (the model module has none), the way the preprocessing job would fit it.
 * User ids are "1".."users" and movie ids "1".."movies"; timestamps lie in [880,000,000, 890,000,000).
 */
public final class SyntheticData {
    public static final String[] WORDS = {"space", "western", "romance", "horror", "comedy", "noir", "musical", "heist"};
    public final FeatureSpec spec;
    public final CandidateCorpus corpus;
    public final Interactions train;
    public final Interactions test;

    public SyntheticData(int users, int movies, int ratings, long seed) {
        this(users, movies, ratings, seed, 0);
    }

    /**
     * As above, with a share {@code popular} of the ratings drawn from a Zipf popularity over all movies (movie 1
     * the most popular) instead of the user's group: what an unseen user can be expected to watch.
     */
    public SyntheticData(int users, int movies, int ratings, long seed, double popular) {
        SplittableRandom rng = new SplittableRandom(seed);
        int groups = WORDS.length;
        List<String> ids = new ArrayList<>();
        List<String> titles = new ArrayList<>();
        for (int m = 0; m < movies; m++) {
            ids.add(String.valueOf(m + 1));
            titles.add("The " + WORDS[m % groups] + " story " + m + " (" + (1950 + m % 50) + ")");
        }
        String[] userIds = new String[ratings];
        int[] movieOf = new int[ratings];
        long[] ts = new long[ratings];
        double harmonic = 0;
        for (int i = 1; i <= movies; i++) {
            harmonic += 1.0 / i;
        }
        for (int i = 0; i < ratings; i++) {
            int u = rng.nextInt(users);
            int g = u % groups;
            int m = rng.nextDouble() < popular ? zipf(rng, movies, harmonic)
                    : rng.nextInt(movies / groups) * groups + g; // a movie of the user's group
            userIds[i] = String.valueOf(u + 1);
            movieOf[i] = m;
            ts[i] = 880_000_000L + rng.nextInt(10_000_000);
        }
        Map<String, Integer> counts = new HashMap<>();
        int longest = 1;
        for (String t : titles) {
            List<String> tokens = TitleTokenizer.tokenize(t);
            longest = Math.max(longest, tokens.size());
            tokens.forEach(tok -> counts.merge(tok, 1, Integer::sum));
        }
        List<String> vocab = new ArrayList<>(List.of(FeatureSpec.PADDING, FeatureSpec.UNKNOWN_TOKEN));
        counts.entrySet().stream()
                .sorted((a, b) -> a.getValue().equals(b.getValue()) ? a.getKey().compareTo(b.getKey()) : b.getValue() - a.getValue())
                .forEach(e -> vocab.add(e.getKey()));
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        double mean = 0;
        for (long t : ts) {
            min = Math.min(min, t);
            max = Math.max(max, t);
            mean += t / (double) ratings;
        }
        double var = 0;
        for (long t : ts) {
            var += (t - mean) * (t - mean) / ratings;
        }
        TowerFeatures declared = TowerFeatures.tutorial("user_id", "timestamp", "title", 50, vocab.size());
        spec = new FeatureSpec("user_id", "movie_id",
                List.of(FittedFeature.categorical(declared.query().get(0), new ArrayList<>(new TreeSet<>(List.of(userIds)))),
                        FittedFeature.timestamp(declared.query().get(1), TimestampBuckets.linspace(min, max, 50), mean, var)),
                List.of(FittedFeature.categorical(declared.candidate().get(0), new ArrayList<>(new TreeSet<>(titles))),
                        FittedFeature.text(declared.candidate().get(1), vocab, longest)));
        corpus = CandidateCorpus.encode(spec, ids, titles, (r, f) -> titles.get(r));
        Interactions all = new Interactions(spec.encodeQueries(ratings, (r, c) -> c == 0 ? userIds[r] : (Object) ts[r]), movieOf);
        int cut = ratings * 4 / 5;
        train = all.select(null, 0, cut);
        test = all.select(null, cut, ratings);
    }

    /** A draw in 0..n-1 with probability proportional to 1 / (rank + 1); {@code total} is the sum of 1 / i to n. */
    private static int zipf(SplittableRandom rng, int n, double total) {
        double u = rng.nextDouble() * total;
        for (int i = 1; i <= n; i++) {
            u -= 1.0 / i;
            if (u <= 0) {
                return i - 1;
            }
        }
        return n - 1;
    }
}
