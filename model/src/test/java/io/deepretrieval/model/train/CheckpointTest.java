package io.deepretrieval.model.train;

import io.deepretrieval.model.metrics.FactorizedTopK;
import io.deepretrieval.model.towers.ModelConfig;
import io.deepretrieval.model.towers.TwoTowerModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CheckpointTest {
    private final SyntheticData data = new SyntheticData(60, 80, 2000, 4);
    private final ModelConfig config = ModelConfig.tutorial(new int[]{16, 8}, 3);

    @Test
    void resumedTrainingEndsWithExactlyTheParametersOfAnUninterruptedRun(@TempDir Path dir) throws IOException {
        TrainingOptions options = new TrainingOptions(256, 4, 2, 11);
        TwoTowerModel straight = new TwoTowerModel(config, data.spec);
        List<CurvePoint> full = new LocalTrainer(options, new FactorizedTopK(10), TrainingListener.NONE)
                .fit(straight, data.corpus, data.train, data.test);

        // Train 2 epochs, checkpoint at the evaluation, then continue a fresh model from the file.
        TwoTowerModel first = new TwoTowerModel(config, data.spec);
        List<CurvePoint> half = new ArrayList<>();
        Path file = dir.resolve("ck.bin");
        new LocalTrainer(new TrainingOptions(256, 2, 2, 11), new FactorizedTopK(10), new TrainingListener() {
            @Override
            public void evaluated(CurvePoint point) {
                half.add(point);
                try {
                    new Checkpoint(point.epoch(), 11, config.layerSizes(), half, ModelState.of(first)).write(file);
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            }
        }).fit(first, data.corpus, data.train, data.test);

        Checkpoint ck = Checkpoint.read(file);
        assertEquals(2, ck.epoch());
        assertArrayEquals(new int[]{16, 8}, ck.layerSizes());
        TwoTowerModel resumed = new TwoTowerModel(config, data.spec);
        ck.state().applyTo(resumed);
        List<CurvePoint> curve = new LocalTrainer(options, new FactorizedTopK(10), TrainingListener.NONE)
                .fit(resumed, data.corpus, data.train, data.test, ck.epoch(), ck.curve());

        assertArrayEquals(ModelState.of(straight).values(), ModelState.of(resumed).values());
        assertArrayEquals(ModelState.of(straight).accumulators(), ModelState.of(resumed).accumulators());
        assertEquals(full.stream().map(CurvePoint::epoch).toList(), curve.stream().map(CurvePoint::epoch).toList());
        assertEquals(full.get(1).accuracy().at(10), curve.get(1).accuracy().at(10), 0.0);
    }

    @Test
    void damagedFilesAreRejectedClearly(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("ck.bin");
        new Checkpoint(3, 1, new int[]{8}, List.of(), ModelState.of(new TwoTowerModel(config, data.spec))).write(file);
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        IOException e = assertThrows(IOException.class, () -> Checkpoint.read(file));
        assertTrue(e.getMessage().contains("truncated or damaged"), e.getMessage());
        Files.writeString(file, "not a checkpoint at all");
        assertTrue(assertThrows(IOException.class, () -> Checkpoint.read(file)).getMessage().contains("not a deep-retrieval checkpoint"));
    }
}
