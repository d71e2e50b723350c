package io.deepretrieval.spark.train;

import io.deepretrieval.model.io.NativeThreads;
import io.deepretrieval.model.metrics.FactorizedTopK;
import io.deepretrieval.model.towers.ModelConfig;
import io.deepretrieval.model.towers.TwoTowerModel;
import io.deepretrieval.model.train.CurvePoint;
import io.deepretrieval.model.train.LocalTrainer;
import io.deepretrieval.model.train.ModelState;
import io.deepretrieval.model.train.TrainingListener;
import io.deepretrieval.model.train.TrainingOptions;
import io.deepretrieval.spark.SyntheticMovieLens;
import io.deepretrieval.spark.TestSpark;
import io.deepretrieval.spark.sweep.PreparedData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ParameterAveragingTest {
    @TempDir
    static Path dir;
    static PreparedData data;

    @BeforeAll
    static void prepare() throws IOException {
        SyntheticMovieLens.write100k(dir.resolve("ml"), 60, 120, 3000, 9);
        data = PreparedData.prepare(TestSpark.session(), dir.resolve("ml"), 42, 0.2, 100, 10_000);
    }

    @Test
    void oneWorkerAveragingEveryStepEqualsTheSingleJvmTrainer() {
        ModelConfig config = ModelConfig.tutorial(new int[]{16, 8}, 5);
        // Steps split over two threads on both paths, so the Spark task's replica runs its slices too.
        TrainingOptions training = new TrainingOptions(256, 2, 2, 7, 2);
        // Both paths on the same native thread count: a different count changes the summation order of ND4J's
        // reductions, and with it the float rounding the comparison allows for.
        NativeThreads.apply(1);
        TwoTowerModel local = new TwoTowerModel(config, data.spec());
        new LocalTrainer(training, new FactorizedTopK(10), TrainingListener.NONE).fit(local, data.corpus(), data.train(), data.test());

        TwoTowerModel distributed = new TwoTowerModel(config, data.spec());
        new ParameterAveraging(new DistributedOptions(1, 256, 1, true, "MEMORY_ONLY", 1), training, new FactorizedTopK(10),
                TrainingListener.NONE).fit(distributed, data.spec(), data.corpus(), data.trainRows(), data.test());

        float[] a = ModelState.of(local).values();
        float[] b = ModelState.of(distributed).values();
        float[] accA = ModelState.of(local).accumulators();
        float[] accB = ModelState.of(distributed).accumulators();
        double maxDiff = 0;
        double maxAccDiff = 0;
        for (int i = 0; i < a.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
            maxAccDiff = Math.max(maxAccDiff, Math.abs(accA[i] - accB[i]) / Math.max(1, Math.abs(accA[i])));
        }
        assertTrue(maxDiff < 1e-5, "parameters differ by " + maxDiff);
        assertTrue(maxAccDiff < 1e-5, "accumulators differ by " + maxAccDiff);
        assertTrue(new ModelState(a, accA).values().length > 10_000);
    }

    @Test
    void twoWorkersLearnThePlantedPreference() {
        ModelConfig config = ModelConfig.tutorial(new int[]{32}, 5);
        ParameterAveraging trainer = new ParameterAveraging(new DistributedOptions(2, 128, 3, true, "MEMORY_ONLY", 1),
                new TrainingOptions(256, 6, 3, 7), new FactorizedTopK(1, 20), TrainingListener.NONE);
        List<CurvePoint> curve = trainer.fit(new TwoTowerModel(config, data.spec()), data.spec(), data.corpus(),
                data.trainRows(), data.test());
        assertEquals(List.of(3, 6), curve.stream().map(CurvePoint::epoch).toList());
        // 120 movies, 20 per user group: a random ranking gets top-20 right one time in 6.
        double top20 = curve.get(1).accuracy().at(20);
        assertTrue(top20 > 0.4, "top-20 " + top20);
        assertTrue(trainer.timer().rounds() > 0 && trainer.timer().overheadShare() < 1);
    }

    @Test
    void invalidSettingsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new DistributedOptions(0, 1, 1, true, "MEMORY_ONLY", 1));
        assertThrows(IllegalArgumentException.class, () -> new DistributedOptions(1, 0, 1, true, "MEMORY_ONLY", 1));
        assertThrows(IllegalArgumentException.class, () -> new DistributedOptions(1, 1, 0, true, "MEMORY_ONLY", 1));
        assertThrows(IllegalArgumentException.class, () -> new DistributedOptions(1, 1, 1, true, "IN_THE_CLOUD", 1));
    }
}
