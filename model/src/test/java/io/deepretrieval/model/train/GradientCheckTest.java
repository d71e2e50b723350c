package io.deepretrieval.model.train;

import io.deepretrieval.model.features.CandidateCorpus;
import io.deepretrieval.model.features.FeatureSpec;
import io.deepretrieval.model.features.Interactions;
import io.deepretrieval.model.io.NdArrays;
import io.deepretrieval.model.task.RetrievalObjective;
import io.deepretrieval.model.towers.ModelConfig;
import io.deepretrieval.model.towers.Parameter;
import io.deepretrieval.model.towers.TwoTowerModel;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every analytical gradient of a tiny model (graph gradients plus the Java embedding path) against central
 * differences, for the tutorial's objective and each option of {@link RetrievalObjective}; and each option's loss
 * against a reference written here from the towers' outputs.
 */
class GradientCheckTest {
    private static final SyntheticData DATA = new SyntheticData(6, 16, 40, 3);

    private static TwoTowerModel model(RetrievalObjective objective) {
        return model(objective, DATA.spec);
    }

    private static TwoTowerModel model(RetrievalObjective objective, FeatureSpec spec) {
        // Larger embeddings than Keras' ±0.05 so gradients stand clear of float32 rounding of the loss.
        TwoTowerModel model = new TwoTowerModel(new ModelConfig(4, new int[]{5, 3}, 0.1, 0.1, 1e-7, 11)
                .withObjective(objective), spec);
        for (Parameter p : model.tables()) {
            float[] v = p.values();
            for (int i = 0; i < v.length; i++) {
                v[i] *= 20;  // uniform(-1, 1)
            }
            p.valuesChanged();
        }
        return model;
    }

    private static void check(RetrievalObjective objective, int threads) {
        check(objective, threads, DATA.spec, DATA.corpus, DATA.train, 100);
    }

    private static void check(RetrievalObjective objective, int threads, FeatureSpec spec, CandidateCorpus corpus,
                              Interactions train, int leastChecked) {
        TwoTowerModel model = model(objective, spec);
        try (TrainingStep step = new TrainingStep(model, corpus, threads)) {
            step.candidateFrequencies(train);
            Interactions batch = train.select(null, 0, 12);
            step.computeGradients(batch);
            double h = 2e-3;
            int checked = 0;
            for (Parameter p : model.parameters().values()) {
                float[] v = p.values();
                float[] g = p.gradient().clone();
                for (int i = 0; i < v.length; i++) {
                    float saved = v[i];
                    v[i] = (float) (saved + h);
                    p.valuesChanged();
                    double up = step.loss(batch);
                    v[i] = (float) (saved - h);
                    p.valuesChanged();
                    double down = step.loss(batch);
                    v[i] = saved;
                    p.valuesChanged();
                    double numeric = (up - down) / (2 * h);
                    double tolerance = 2e-2 + 5e-2 * Math.abs(numeric);
                    assertEquals(numeric, g[i], tolerance, objective + " " + p.name() + "[" + i + "]");
                    if (g[i] != 0) {
                        checked++;
                    }
                }
            }
            assertTrue(checked > leastChecked, "only " + checked + " non-zero gradient entries were checked");
        }
    }

    @Test
    void analyticalGradientsMatchFiniteDifferences() {
        check(RetrievalObjective.TUTORIAL, 1);
    }

    /**
     * A history sharing the candidate item table: one parameter that both towers read, whose gradient must be the
     * sum of both towers' (a row looked up as a candidate and as a history item gets both), checked by differences
     * of the loss; with separate tables, each its own.
     */
    @Test
    void aSharedHistoryTableGetsTheGradientOfBothTowers() {
        SequenceData shared = new SequenceData(6, 12, 6, 3, true, true, 4);
        assertEquals(List.of("user_table", "item_table"), model(RetrievalObjective.TUTORIAL, shared.spec).tables().stream()
                .map(t -> t.name()).toList(), "one item table, read by both towers");
        check(RetrievalObjective.TUTORIAL, 2, shared.spec, shared.corpus, shared.train, 40);
        SequenceData separate = new SequenceData(6, 12, 6, 3, false, true, 8);
        assertEquals(List.of("user_table", "recent_table", "item_table"),
                model(RetrievalObjective.TUTORIAL, separate.spec).tables().stream().map(t -> t.name()).toList());
        check(RetrievalObjective.TUTORIAL, 1, separate.spec, separate.corpus, separate.train, 40);
    }

    @Test
    void temperature() {
        check(new RetrievalObjective(0.5, false, false, 0), 1);
    }

    @Test
    void removeAccidentalHits() {
        check(new RetrievalObjective(1, true, false, 0), 1);
    }

    @Test
    void logQCorrection() {
        check(new RetrievalObjective(1, false, true, 0), 1);
    }

    @Test
    void mixedNegatives() {
        check(new RetrievalObjective(1, false, false, 5), 1);
    }

    @Test
    void everyOptionAtOnceOverTwoSlices() {
        check(new RetrievalObjective(0.7, true, true, 4), 2);
    }

    /**
     * The loss of each option from the towers' own embeddings: z_ij = q_i·c_j / T − log(expected count of c_j)
     * (logQ), −∞ where c_j is row i's positive record at another position (accidental hits);
     * loss = Σ_i logsumexp_j z_ij − z_ii.
     */
    @Test
    void eachOptionsLossEqualsAReferenceFromTheTowerOutputs() {
        Interactions batch = DATA.train.select(null, 0, 12);
        int[] pos = batch.candidate();
        int dupes = 0;
        for (int i = 0; i < pos.length; i++) {
            for (int j = 0; j < pos.length; j++) {
                dupes += i != j && pos[i] == pos[j] ? 1 : 0;
            }
        }
        assertTrue(dupes > 0, "the batch needs repeated positives for the mask to matter");
        double[] share = new double[DATA.corpus.size()];
        for (int c : DATA.train.candidate()) {
            share[c] += 1.0 / DATA.train.size();
        }
        double plain = Double.NaN;
        for (RetrievalObjective o : new RetrievalObjective[]{RetrievalObjective.TUTORIAL,
                new RetrievalObjective(0.5, false, false, 0), new RetrievalObjective(1, true, false, 0),
                new RetrievalObjective(1, false, true, 0), new RetrievalObjective(0.8, true, true, 0)}) {
            TwoTowerModel model = model(o);
            float[] q = NdArrays.floats(model.queryEmbeddings(batch));
            float[] all = NdArrays.floats(model.candidateEmbeddings(DATA.corpus));
            int d = model.config().outputDim();
            int n = pos.length;
            double expected = 0;
            for (int i = 0; i < n; i++) {
                double[] z = new double[n];
                for (int j = 0; j < n; j++) {
                    double dot = 0;
                    for (int k = 0; k < d; k++) {
                        dot += (double) q[i * d + k] * all[pos[j] * d + k];
                    }
                    z[j] = dot / o.temperature() - (o.logQCorrection() ? Math.log(n * share[pos[j]]) : 0);
                    if (o.removeAccidentalHits() && j != i && pos[j] == pos[i]) {
                        z[j] = Double.NEGATIVE_INFINITY;
                    }
                }
                double max = java.util.Arrays.stream(z).max().orElseThrow();
                double sum = 0;
                for (double v : z) {
                    sum += Math.exp(v - max);
                }
                expected += max + Math.log(sum) - z[i];
            }
            try (TrainingStep step = new TrainingStep(model, DATA.corpus)) {
                step.candidateFrequencies(DATA.train);
                double got = step.loss(batch);
                assertEquals(expected, got, 1e-4 * Math.abs(expected), o.toString());
                if (o.plain()) {
                    plain = got;
                } else {
                    assertNotEquals(plain, got, o + " changed nothing");
                }
            }
        }
    }
}
