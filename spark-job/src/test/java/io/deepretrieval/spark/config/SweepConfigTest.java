package io.deepretrieval.spark.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SweepConfigTest {
    @Test
    void shippedConfigIsTheTutorialsDefaults() {
        SweepConfig conf = SweepConfig.load(Path.of("..", "conf", "sweep.json"));
        assertEquals(SweepConfig.defaults(), conf);
        assertEquals(List.of(List.of(32), List.of(64, 32), List.of(128, 64, 32)), conf.layerSizes());
        assertEquals(300, conf.epochs());
        assertEquals(2048, conf.batchSize());
        assertArrayEquals(new int[]{1, 5, 10, 50, 100}, conf.topKArray());
    }

    @Test
    void keysLeftOutKeepTheirDefault(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("c.json");
        Files.writeString(f, "// a comment\n{\"epochs\": 10, \"layerSizes\": [[8]]}");
        SweepConfig c = SweepConfig.load(f);
        assertEquals(10, c.epochs());
        assertEquals(List.of(List.of(8)), c.layerSizes());
        assertEquals(2048, c.batchSize());
    }

    @Test
    void allProblemsAreReportedTogetherWithSuggestions(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("c.json");
        Files.writeString(f, "{\"epoch\": 10, \"batchSize\": \"big\", \"learningRate\": -1, \"layerSizes\": [[64, -3]]}");
        ConfigException e = assertThrows(ConfigException.class, () -> SweepConfig.load(f));
        String m = e.getMessage();
        assertTrue(m.contains(f.toString()), m);
        assertTrue(m.contains("unknown key 'epoch' (did you mean 'epochs'?)"), m);
        assertTrue(m.contains("batchSize: must be an integer, got \"big\""), m);
        assertEquals(2, e.problems().size(), "type errors are reported before range checks: " + e.problems());
        Files.writeString(f, "{\"learningRate\": -1, \"layerSizes\": [[64, -3]], \"testFraction\": 1.5, \"stepThreads\": -2}");
        ConfigException ranges = assertThrows(ConfigException.class, () -> SweepConfig.load(f));
        assertEquals(4, ranges.problems().size(), ranges.problems().toString());
        assertTrue(ranges.getMessage().contains("stepThreads: must be >= 0"), ranges.getMessage());
        assertTrue(ranges.getMessage().contains("layer size -3 in [64, -3]"), ranges.getMessage());
        Files.writeString(f, "{\"temperature\": 0, \"removeAccidentalHits\": true}");
        ConfigException objective = assertThrows(ConfigException.class, () -> SweepConfig.load(f));
        assertTrue(objective.getMessage().contains("temperature: must be a positive number, got 0.0"), objective.getMessage());
        Files.writeString(f, "{\"temperature\": 0.5, \"logQCorrection\": true, \"mixedNegatives\": 64}");
        assertEquals(new io.deepretrieval.model.task.RetrievalObjective(0.5, false, true, 64),
                SweepConfig.load(f).model(java.util.List.of(32), 1).objective());
    }

    @Test
    void unreadableJsonNamesTheFile(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("c.json");
        Files.writeString(f, "{\"epochs\": ");
        ConfigException e = assertThrows(ConfigException.class, () -> SweepConfig.load(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("cannot read it as JSON"), e.getMessage());
    }
}
