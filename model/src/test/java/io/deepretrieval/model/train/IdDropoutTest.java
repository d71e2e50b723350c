package io.deepretrieval.model.train;

import io.deepretrieval.model.features.FeatureColumns;
import io.deepretrieval.model.features.FeatureSpec;
import io.deepretrieval.model.features.IdDropout;
import io.deepretrieval.model.features.Interactions;
import io.deepretrieval.model.metrics.FactorizedTopK;
import io.deepretrieval.model.task.RetrievalObjective;
import io.deepretrieval.model.towers.EmbeddingTable;
import io.deepretrieval.model.towers.ModelConfig;
import io.deepretrieval.model.towers.TwoTowerModel;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ID dropout: which ids it drops, that it trains the out-of-vocabulary row, and what that row learns. */
class IdDropoutTest {
    /** Half the ratings follow a Zipf popularity over the 80 movies, half the users' planted groups. */
    private final SyntheticData data = new SyntheticData(100, 80, 8000, 11, 0.5);

    @Test
    void dropsTheSharedRateOfIdsOfOneFeatureOnlyAndTheSameRowsEveryTime() {
        IdDropout dropout = new IdDropout("user", 0.3);
        int user = dropout.position(data.spec.query());
        assertEquals(0, user);
        Interactions dropped = dropout.apply(data.train, user, 5);
        int[] before = data.train.query().ids(user);
        int[] after = dropped.query().ids(user);
        long zeroed = IntStream.range(0, before.length).filter(r -> after[r] == 0 && before[r] != 0).count();
        assertEquals(0.3, zeroed / (double) before.length, 0.02, "share of dropped ids");
        assertTrue(IntStream.range(0, before.length).allMatch(r -> after[r] == 0 || after[r] == before[r]));
        assertArrayEquals(data.train.query().ids(1), dropped.query().ids(1), "the timestamp buckets are kept");
        assertArrayEquals(data.train.query().values(1), dropped.query().values(1));
        assertArrayEquals(data.train.candidate(), dropped.candidate());
        assertArrayEquals(after, dropout.apply(data.train, user, 5).query().ids(user), "seeded by the batch");
        assertFalse(Arrays.equals(after, dropout.apply(data.train, user, 6).query().ids(user)), "and the seed");
        assertSame(data.train, IdDropout.NONE.apply(data.train, -1, 5));
    }

    @Test
    void rejectsFeaturesItCannotDrop() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new IdDropout("user", 0.3)
                .position(data.spec.query().subList(1, 2))).getMessage().contains("'user' is not a query feature"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new IdDropout("timestamp", 0.3)
                .position(data.spec.query())).getMessage().contains("it must be categorical"));
        assertThrows(IllegalArgumentException.class, () -> new IdDropout("user", 1.0));
        assertThrows(IllegalArgumentException.class, () -> new IdDropout("", 0.1));
        // The step checks its model's feature when it is built, before any training.
        ModelConfig bad = config().withIdDropout(new IdDropout("zip", 0.1));
        assertThrows(IllegalArgumentException.class, () -> new TrainingStep(new TwoTowerModel(bad, data.spec), data.corpus));
    }

    @Test
    void theOutOfVocabularyRowTrainsOnlyWithDropoutAndGivesUnknownUsersThePopularityPrior() {
        // The user id alone in the query tower: what an unknown user's query knows comes from row 0 only.
        FeatureSpec idOnly = new FeatureSpec("user_id", "movie_id", data.spec.query().subList(0, 1), data.spec.candidate());
        Interactions train = idOnly(data.train);
        Interactions coldTest = cold(idOnly(data.test));
        double popularity = popularityTop10(coldTest);
        double without = coldTop10(config(), idOnly, train, coldTest, false);
        double with = coldTop10(config().withIdDropout(new IdDropout("user", 0.2)), idOnly, train, coldTest, true);
        // Unknown users watch the popular movies; the most-popular ranking is the most one can do for them here.
        // (Without dropout the shared dense bias carries much of the prior too on this data: not asserted.)
        assertTrue(popularity > 0.25, "the planted popularity: " + popularity);
        assertTrue(with > 0.8 * popularity, "unknown users' top-10 " + with + " with dropout, most popular "
                + popularity + ", without dropout " + without);
    }

    private static ModelConfig config() {
        return ModelConfig.tutorial(new int[]{16}, 3).withObjective(new RetrievalObjective(1, false, true, 0));
    }

    /** Top-10 accuracy of {@code coldTest} after training on {@code train}; checks whether row 0 of the user table moved. */
    private double coldTop10(ModelConfig config, FeatureSpec spec, Interactions train, Interactions coldTest,
                             boolean rowZeroTrains) {
        TwoTowerModel model = new TwoTowerModel(config, spec);
        EmbeddingTable users = model.tables().get(0);
        float[] rowZero = Arrays.copyOf(users.values(), model.config().embeddingDim());
        LocalTrainer trainer = new LocalTrainer(new TrainingOptions(256, 6, 6, 1), new FactorizedTopK(10), TrainingListener.NONE);
        CurvePoint last = trainer.fit(model, data.corpus, train, coldTest).get(0);
        float[] after = Arrays.copyOf(users.values(), model.config().embeddingDim());
        assertEquals(rowZeroTrains, !Arrays.equals(rowZero, after), "row 0 of " + users.name() + " moved");
        return last.accuracy().at(10);
    }

    /** The rows with the user id as their only query feature. */
    private static Interactions idOnly(Interactions rows) {
        FeatureColumns q = rows.query();
        return new Interactions(new FeatureColumns(q.rows(), new int[]{1}, new int[][]{q.ids(0)}, new float[1][],
                new float[1][]), rows.candidate());
    }

    /** The rows with every user unknown (id 0), as users unseen in training are encoded. */
    private static Interactions cold(Interactions rows) {
        boolean[] all = new boolean[rows.size()];
        Arrays.fill(all, true);
        return new Interactions(rows.query().withIdsDropped(0, all), rows.candidate());
    }

    /** Top-10 accuracy of ranking every movie by its training count. */
    private double popularityTop10(Interactions test) {
        int[] counts = new int[data.corpus.size()];
        for (int c : data.train.candidate()) {
            counts[c]++;
        }
        Integer[] order = IntStream.range(0, counts.length).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingInt(i -> -counts[i]));
        java.util.Set<Integer> top = java.util.Set.of(Arrays.copyOf(order, 10));
        return Arrays.stream(test.candidate()).filter(top::contains).count() / (double) test.size();
    }
}
