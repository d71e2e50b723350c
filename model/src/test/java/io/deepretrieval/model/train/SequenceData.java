package io.deepretrieval.model.train;

import io.deepretrieval.model.features.CandidateCorpus;
import io.deepretrieval.model.features.FeatureConfig;
import io.deepretrieval.model.features.FeatureSpec;
import io.deepretrieval.model.features.FittedFeature;
import io.deepretrieval.model.features.Interactions;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Planted sequences: every user walks the same hidden chain of items (item {@code next[i]} always follows item
 * {@code i}) from a random start, so the next item follows from the previous one while user ids carry no signal.
 * The query tower reads the user id and the last {@code historyLength} items before each step (oldest first); the
 * candidate tower reads the item id. Test rows are the last step of each user.
 */
public final class SequenceData {
    public final FeatureSpec spec;
    public final CandidateCorpus corpus;
    public final Interactions train;
    public final Interactions test;
    /** The test rows' histories and users, for scoring them another way. */
    public final List<List<String>> testHistories = new ArrayList<>();

    /**
     * @param sharedTable whether the history reads the candidate item table ({@code shareWith=item})
     * @param withHistory whether the query tower has the history feature at all (else: user id only)
     */
    public SequenceData(int users, int items, int steps, int historyLength, boolean sharedTable, boolean withHistory,
                        long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] next = new int[items];
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < items; i++) {
            order.add(i);
        }
        java.util.Collections.shuffle(order, new java.util.Random(seed));
        for (int i = 0; i < items; i++) {
            next[order.get(i)] = order.get((i + 1) % items);
        }
        List<String> itemIds = new ArrayList<>();
        for (int i = 0; i < items; i++) {
            itemIds.add("i" + i);
        }
        List<String> sortedIds = new ArrayList<>(itemIds);
        java.util.Collections.sort(sortedIds);
        List<String> userIds = new ArrayList<>();
        for (int u = 0; u < users; u++) {
            userIds.add("u" + u);
        }
        java.util.Collections.sort(userIds);
        FittedFeature user = FittedFeature.categorical(FeatureConfig.categorical("user", "user_id"), userIds);
        FittedFeature item = FittedFeature.categorical(FeatureConfig.categorical("item", "item_id"), sortedIds);
        FittedFeature history = FittedFeature.history(FeatureConfig.history("recent", "item_id", historyLength,
                sharedTable ? "item" : null), sortedIds);
        spec = new FeatureSpec("user_id", "item_id", withHistory ? List.of(user, history) : List.of(user), List.of(item));
        corpus = CandidateCorpus.encode(spec, sortedIds, sortedIds, (r, f) -> sortedIds.get(r));

        List<String> trainUsers = new ArrayList<>();
        List<List<String>> trainHistories = new ArrayList<>();
        List<Integer> trainItems = new ArrayList<>();
        List<String> testUsers = new ArrayList<>();
        List<Integer> testItems = new ArrayList<>();
        for (int u = 0; u < users; u++) {
            int at = rng.nextInt(items);
            List<String> seen = new ArrayList<>();
            for (int s = 0; s < steps; s++) {
                List<String> h = List.copyOf(seen.subList(Math.max(0, seen.size() - historyLength), seen.size()));
                int record = sortedIds.indexOf("i" + at);
                if (s == steps - 1) {
                    testUsers.add("u" + u);
                    testHistories.add(h);
                    testItems.add(record);
                } else {
                    trainUsers.add("u" + u);
                    trainHistories.add(h);
                    trainItems.add(record);
                }
                seen.add("i" + at);
                at = next[at];
            }
        }
        train = interactions(trainUsers, trainHistories, trainItems, withHistory);
        test = interactions(testUsers, testHistories, testItems, withHistory);
    }

    private Interactions interactions(List<String> users, List<List<String>> histories, List<Integer> items,
                                      boolean withHistory) {
        return new Interactions(spec.encodeQueries(users.size(),
                (r, c) -> c == 0 ? users.get(r) : histories.get(r)), items.stream().mapToInt(Integer::intValue).toArray());
    }
}
