package io.deepretrieval.model.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.deepretrieval.model.metrics.FactorizedTopK;
import io.deepretrieval.model.towers.ModelConfig;
import io.deepretrieval.model.towers.Parameter;
import io.deepretrieval.model.towers.TwoTowerModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

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

    /** A model trained for one epoch, so that every parameter and accumulator holds its own values. */
    private TwoTowerModel trained() {
        TwoTowerModel model = new TwoTowerModel(config, data.spec);
        new LocalTrainer(new TrainingOptions(256, 1, 1, 11), new FactorizedTopK(10), TrainingListener.NONE)
                .fit(model, data.corpus, data.train, data.test);
        return model;
    }

    @Test
    void aRoundTripKeepsEachParameterAndItsAccumulatorByName(@TempDir Path dir) throws IOException {
        TwoTowerModel model = trained();
        Path file = dir.resolve("ck.bin");
        new Checkpoint(1, 11, config.layerSizes(), List.of(), ModelState.of(model)).write(file);
        TwoTowerModel restored = new TwoTowerModel(config, data.spec);
        Checkpoint.read(file).state().applyTo(restored);
        for (Map.Entry<String, Parameter> e : model.parameters().entrySet()) {
            Parameter got = restored.parameters().get(e.getKey());
            assertArrayEquals(e.getValue().values(), got.values(), e.getKey());
            assertArrayEquals(e.getValue().accumulator(), got.accumulator(), e.getKey() + " accumulator");
        }
    }

    @Test
    void aCheckpointOfOtherShapesWithTheSameTotalIsRefusedNamingTheParameter(@TempDir Path dir) throws IOException {
        TwoTowerModel[] m = ModelStateTest.sameTotalOtherShapes();
        Path file = dir.resolve("ck.bin");
        new Checkpoint(1, 11, config.layerSizes(), List.of(), ModelState.of(m[0])).write(file);
        Checkpoint ck = Checkpoint.read(file);
        String name = ModelStateTest.firstOtherShape(m[1], m[0]).name();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ck.state().applyTo(m[1]));
        assertTrue(e.getMessage().contains("'" + name + "'"), e.getMessage());
    }

    @Test
    void theHeaderNamesEachParameterWithItsShapeAndTheArraysFollowInThatOrder(@TempDir Path dir) throws IOException {
        TwoTowerModel model = trained();
        Path file = dir.resolve("ck.bin");
        new Checkpoint(1, 11, config.layerSizes(), List.of(), ModelState.of(model)).write(file);
        ByteBuffer in = ByteBuffer.wrap(Files.readAllBytes(file));
        assertEquals(0x4452434B, in.getInt());
        assertEquals(2, in.getInt());
        byte[] header = new byte[in.getInt()];
        in.get(header);
        JsonNode params = new ObjectMapper().readTree(header).get("parameters");
        assertEquals(model.parameters().size(), params.size());
        int i = 0;
        for (Parameter p : model.parameters().values()) {
            JsonNode n = params.get(i++);
            assertEquals(p.name(), n.get("name").asText());
            assertArrayEquals(p.shape(), new ObjectMapper().treeToValue(n.get("shape"), long[].class), p.name());
            assertEquals("float32", n.get("dtype").asText());
        }
        // Every parameter's values, then every parameter's accumulators, in the header's order.
        for (Parameter p : model.parameters().values()) {
            float[] v = new float[p.values().length];
            in.asFloatBuffer().get(v);
            in.position(in.position() + 4 * v.length);
            assertArrayEquals(p.values(), v, p.name());
        }
        for (Parameter p : model.parameters().values()) {
            float[] v = new float[p.values().length];
            in.asFloatBuffer().get(v);
            in.position(in.position() + 4 * v.length);
            assertArrayEquals(p.accumulator(), v, p.name() + " accumulator");
        }
        assertEquals(0, in.remaining());
        ModelState read = Checkpoint.read(file).state();
        for (Parameter p : model.parameters().values()) {
            assertArrayEquals(p.values(), read.values(p.name()), p.name());
            assertArrayEquals(p.accumulator(), read.accumulators(p.name()), p.name());
        }
    }

    @Test
    void aCheckpointOfOtherShapesNamesItsFileWhenApplied(@TempDir Path dir) throws IOException {
        TwoTowerModel[] m = ModelStateTest.sameTotalOtherShapes();
        Path file = dir.resolve("ck.bin");
        new Checkpoint(1, 11, config.layerSizes(), List.of(), ModelState.of(m[0])).write(file);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Checkpoint.read(file).state().applyTo(m[1], file.toString()));
        assertTrue(e.getMessage().startsWith(file.toString())
                && e.getMessage().contains("'" + ModelStateTest.firstOtherShape(m[1], m[0]).name() + "' has shape"), e.getMessage());
    }

    /** The file with its JSON header edited (lengths kept consistent). */
    private static byte[] withHeader(byte[] file, Consumer<ObjectNode> edit) throws IOException {
        ByteBuffer in = ByteBuffer.wrap(file);
        int magic = in.getInt();
        int version = in.getInt();
        byte[] header = new byte[in.getInt()];
        in.get(header);
        ObjectNode h = (ObjectNode) new ObjectMapper().readTree(header);
        edit.accept(h);
        byte[] edited = new ObjectMapper().writeValueAsBytes(h);
        return ByteBuffer.allocate(12 + edited.length + in.remaining()).putInt(magic).putInt(version)
                .putInt(edited.length).put(edited).put(in).array();
    }

    private static ObjectNode firstParameter(ObjectNode header) {
        return (ObjectNode) header.get("parameters").get(0);
    }

    @Test
    void damagedShapesNamesAndDtypesAreClearErrors(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("ck.bin");
        new Checkpoint(3, 1, new int[]{8}, List.of(), ModelState.of(new TwoTowerModel(config, data.spec))).write(file);
        byte[] good = Files.readAllBytes(file);
        Map<String, Consumer<ObjectNode>> edits = Map.of(
                "negative dimension", h -> ((ArrayNode) firstParameter(h).get("shape")).set(0, -1),
                "huge dimension", h -> ((ArrayNode) firstParameter(h).get("shape")).set(0, 1L << 40),
                "int overflow", h -> firstParameter(h).putArray("shape").add(1 << 20).add(1 << 20),
                "a dimension more", h -> ((ArrayNode) firstParameter(h).get("shape")).add(2),
                "no parameters", h -> h.remove("parameters"),
                "a repeated name", h -> firstParameter(h).put("name", h.get("parameters").get(1).get("name").asText()),
                "a fraction", h -> ((ArrayNode) firstParameter(h).get("shape")).set(0, 1.5));
        for (Map.Entry<String, Consumer<ObjectNode>> edit : edits.entrySet()) {
            Files.write(file, withHeader(good, edit.getValue()));
            IOException e = assertThrows(IOException.class, () -> Checkpoint.read(file), edit.getKey());
            assertTrue(e.getMessage().startsWith(file + " is truncated or damaged: "), edit.getKey() + ": " + e.getMessage());
        }
        Files.write(file, withHeader(good, h -> firstParameter(h).put("dtype", "float64")));
        IOException dtype = assertThrows(IOException.class, () -> Checkpoint.read(file));
        String first = ParameterLayout.of(new TwoTowerModel(config, data.spec)).entries().get(0).name();
        assertTrue(dtype.getMessage().startsWith(file.toString()) && dtype.getMessage().contains("'" + first + "'")
                && dtype.getMessage().contains("float64"), dtype.getMessage());
        byte[] notJson = good.clone();
        notJson[12] = '#';
        Files.write(file, notJson);
        assertTrue(assertThrows(IOException.class, () -> Checkpoint.read(file)).getMessage()
                .startsWith(file + " is truncated or damaged: "));
    }

    @Test
    void aFormatOneCheckpointIsRefusedAsOld(@TempDir Path dir) throws IOException {
        // Format 1: the same header without parameters, then two length-prefixed flat float arrays.
        byte[] header = "{\"epoch\":1,\"shuffleSeed\":1,\"layerSizes\":[8],\"curve\":[]}".getBytes(StandardCharsets.UTF_8);
        ByteBuffer v1 = ByteBuffer.allocate(12 + header.length + 2 * (4 + 8));
        v1.putInt(0x4452434B).putInt(1).putInt(header.length).put(header);
        v1.putInt(2).putFloat(1).putFloat(2).putInt(2).putFloat(.1f).putFloat(.1f);
        Path file = dir.resolve("old.ckpt");
        Files.write(file, v1.array());
        IOException e = assertThrows(IOException.class, () -> Checkpoint.read(file));
        assertTrue(e.getMessage().startsWith(file.toString()) && e.getMessage().contains("format 1"), e.getMessage());
    }

    @Test
    void aServingOnlyStateIsNoCheckpoint() {
        ModelState serving = ModelState.of(new TwoTowerModel(config, data.spec)).servingOnly();
        assertThrows(IllegalArgumentException.class, () -> new Checkpoint(1, 1, new int[]{8}, List.of(), serving));
    }

    @Test
    void aNegativeOrHugeLengthIsAClearErrorNotACrash(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("ck.bin");
        new Checkpoint(3, 1, new int[]{8}, List.of(), ModelState.of(new TwoTowerModel(config, data.spec))).write(file);
        byte[] good = Files.readAllBytes(file);
        // The header's length follows the magic and the version.
        for (int length : new int[]{-1, Integer.MIN_VALUE, Integer.MAX_VALUE, good.length}) {
            byte[] bad = good.clone();
            ByteBuffer.wrap(bad).putInt(8, length);
            Files.write(file, bad);
            IOException e = assertThrows(IOException.class, () -> Checkpoint.read(file), "header length " + length);
            assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("truncated or damaged"),
                    e.getMessage());
        }
    }

    @Test
    void everyTruncationAndTrailingBytesAreAClearError(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("ck.bin");
        new Checkpoint(3, 1, new int[]{8}, List.of(), ModelState.of(new TwoTowerModel(config, data.spec))).write(file);
        byte[] good = Files.readAllBytes(file);
        List<byte[]> damaged = new ArrayList<>();
        for (int cut = 0; cut < good.length; cut += 1 + cut / 3) {
            damaged.add(Arrays.copyOf(good, cut));
        }
        damaged.add(Arrays.copyOf(good, good.length - 1));
        damaged.add(Arrays.copyOf(good, good.length + 4)); // a stray float after the parameters
        for (byte[] bad : damaged) {
            Files.write(file, bad);
            IOException e = assertThrows(IOException.class, () -> Checkpoint.read(file), bad.length + " bytes");
            assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        }
    }
}
