package io.deepretrieval.model.train;

import io.deepretrieval.model.metrics.FactorizedTopK;
import io.deepretrieval.model.towers.ModelConfig;
import io.deepretrieval.model.towers.TwoTowerModel;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * On planted sequences (the next item follows from the previous one, user ids carry no signal), a query tower that
 * reads the history finds each user's next item far above chance, with its own table or sharing the item table,
 * while the id-only tower cannot beat chance by much.
 */
class HistoryLearningTest {
    private static final int ITEMS = 60;
    private static final double CHANCE_TOP10 = 10.0 / ITEMS;

    private static double top10(SequenceData data) {
        LocalTrainer trainer = new LocalTrainer(new TrainingOptions(128, 12, 12, 3), new FactorizedTopK(10),
                TrainingListener.NONE);
        List<CurvePoint> curve = trainer.fit(new TwoTowerModel(new ModelConfig(16, new int[]{32}, 0.1, 0.1, 1e-7, 2),
                data.spec), data.corpus, data.train, data.test);
        return curve.get(curve.size() - 1).accuracy().at(10);
    }

    @Test
    void theHistoryTowerBeatsChanceFiveTimesAndTheIdTowerDoesNot() {
        double separate = top10(new SequenceData(300, ITEMS, 12, 3, false, true, 5));
        double shared = top10(new SequenceData(300, ITEMS, 12, 3, true, true, 5));
        double idOnly = top10(new SequenceData(300, ITEMS, 12, 3, false, false, 5));
        String figures = "top-10: history " + separate + ", shared table " + shared + ", id only " + idOnly
                + " (chance " + CHANCE_TOP10 + ")";
        assertTrue(separate > 5 * CHANCE_TOP10, figures);
        assertTrue(shared > 5 * CHANCE_TOP10, figures);
        assertTrue(idOnly < 2 * CHANCE_TOP10, figures);
    }
}
