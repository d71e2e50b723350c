package io.deepretrieval.spark.train;

import io.deepretrieval.model.io.NativeThreads;
import io.deepretrieval.model.metrics.FactorizedTopK;
import io.deepretrieval.model.metrics.TopKAccuracy;
import io.deepretrieval.model.towers.ModelConfig;
import io.deepretrieval.model.towers.TwoTowerModel;
import io.deepretrieval.model.train.HeldOutRows;
import io.deepretrieval.model.train.LocalTrainer;
import io.deepretrieval.model.train.TrainingListener;
import io.deepretrieval.model.train.TrainingOptions;
import io.deepretrieval.spark.SyntheticMovieLens;
import io.deepretrieval.spark.TestSpark;
import io.deepretrieval.spark.TutorialData;
import io.deepretrieval.spark.ml.PreparedInteractions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DistributedHeldOutTest {
    /** Scored on three executor partitions, the held-out rows give the same hit counts as scored in the driver. */
    @Test
    void scoringOnTheExecutorsEqualsScoringInTheDriver(@TempDir Path dir) throws IOException {
        SyntheticMovieLens.write100k(dir.resolve("ml"), 60, 120, 3000, 4);
        PreparedInteractions data = TutorialData.prepare(TestSpark.session(), dir.resolve("ml").toString(), 42, 0.2, 100, 10_000);
        NativeThreads.apply(1);
        TwoTowerModel model = new TwoTowerModel(ModelConfig.tutorial(new int[]{16}, 3), data.spec());
        FactorizedTopK metric = new FactorizedTopK(1, 5, 20, 100);
        new LocalTrainer(new TrainingOptions(128, 3, 3, 3), metric, TrainingListener.NONE)
                .fit(model, data.corpus(), data.train(), data.heldOut());

        TopKAccuracy inDriver = HeldOutRows.inMemory(data.heldOut()).score(model, data.corpus(), metric);
        try (DistributedHeldOut onExecutors = new DistributedHeldOut(data.heldOutRows(), data.spec(), 3, 1)) {
            assertEquals(data.heldOut().size(), onExecutors.size());
            TopKAccuracy distributed = onExecutors.score(model, data.corpus(), metric);
            assertArrayEquals(inDriver.accuracy(), distributed.accuracy(), 0.0, inDriver + " vs " + distributed);
            // The model learned something, so equal counts are not two empty tallies: 120 movies, top-20 by chance 1/6.
            assertTrue(distributed.at(20) > 0.3, distributed.toString());
            // A second evaluation reuses the executors' scoring replicas and sees the model's new state.
            new LocalTrainer(new TrainingOptions(128, 1, 1, 4), metric, TrainingListener.NONE)
                    .fit(model, data.corpus(), data.train(), data.heldOut());
            assertArrayEquals(HeldOutRows.inMemory(data.heldOut()).score(model, data.corpus(), metric).accuracy(),
                    onExecutors.score(model, data.corpus(), metric).accuracy(), 0.0);
        }
    }
}
