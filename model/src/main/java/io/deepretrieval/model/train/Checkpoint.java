package io.deepretrieval.model.train;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.deepretrieval.model.io.AtomicFiles;
import io.deepretrieval.model.metrics.TopKAccuracy;
import io.deepretrieval.model.towers.TwoTowerModel;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Training state after an evaluation: parameters, Adagrad accumulators, the epoch reached, the shuffle seed and
 * the curve so far. One file, written atomically. The shuffle order of an epoch derives from (seed, epoch) alone
 * ({@link EpochShuffle}), so the seed is the whole random state and a resumed run continues exactly.
 *
 * <p>Layout (format 2, big-endian): magic "DRCK", format version, the header's length and a JSON header (epoch,
 * seed, layer sizes, curve, and {@code parameters}: each parameter's name, shape and dtype, in the order of the
 * arrays), then every parameter's values and then every parameter's accumulators, float32, in that order. The
 * sizes come from the shapes; a file whose bytes after the header are not exactly those is refused before anything
 * is allocated. Plain data only: reading it deserializes no classes.
 *
 * <p>Format 1 (flat arrays without names or shapes) is refused with a message saying so: its values could only be
 * placed by position, which is what format 2 exists to stop.
 */
public record Checkpoint(int epoch, long shuffleSeed, int[] layerSizes, List<CurvePoint> curve, ModelState state) {
    private static final int MAGIC = 0x4452434B; // "DRCK"
    private static final int VERSION = 2;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A checkpoint resumes training, so it keeps the optimizer state: a serving-only state is refused. */
    public Checkpoint {
        if (!state.hasAccumulators()) {
            throw new IllegalArgumentException("a checkpoint keeps the Adagrad accumulators; this state has none");
        }
    }

    /** Writes the checkpoint atomically (a crash leaves the previous file). */
    public void write(Path file) throws IOException {
        ObjectNode header = JSON.createObjectNode().put("epoch", epoch).put("shuffleSeed", shuffleSeed);
        ArrayNode layers = header.putArray("layerSizes");
        for (int s : layerSizes) {
            layers.add(s);
        }
        ArrayNode points = header.putArray("curve");
        for (CurvePoint p : curve) {
            ObjectNode n = points.addObject().put("epoch", p.epoch()).put("meanLoss", p.meanLoss())
                    .put("trainSeconds", p.trainSeconds());
            ArrayNode ks = n.putArray("ks");
            ArrayNode acc = n.putArray("accuracy");
            for (int i = 0; i < p.accuracy().ks().length; i++) {
                ks.add(p.accuracy().ks()[i]);
                acc.add(p.accuracy().accuracy()[i]);
            }
        }
        header.set("parameters", state.layout().toJson());
        byte[] headerBytes = JSON.writeValueAsBytes(header);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(
                (int) Math.min(Integer.MAX_VALUE - 16, 12L + headerBytes.length + 8L * state.values().length));
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(MAGIC);
            out.writeInt(VERSION);
            out.writeInt(headerBytes.length);
            out.write(headerBytes);
            writeFloats(out, state.values());
            writeFloats(out, state.accumulators());
        }
        AtomicFiles.write(file, bytes.toByteArray());
    }

    /**
     * Reads a checkpoint written by {@link #write}. Its state is not yet checked against any model: apply it with
     * {@link ModelState#applyTo(TwoTowerModel, String)}, which compares the names and shapes.
     *
     * @throws IOException naming the file when it is not a checkpoint, of another format, or truncated or damaged
     */
    public static Checkpoint read(Path file) throws IOException {
        ByteBuffer in = ByteBuffer.wrap(Files.readAllBytes(file));
        try {
            if (in.remaining() < 4 || in.getInt() != MAGIC) {
                throw new IOException(file + " is not a deep-retrieval checkpoint");
            }
            int version = in.getInt();
            if (version == 1) {
                throw new IOException(file + ": checkpoint format 1 (parameters without names or shapes) is no longer"
                        + " read (this build reads " + VERSION + "); delete it to train afresh");
            }
            if (version != VERSION) {
                throw new IOException(file + ": checkpoint format " + version + " is not supported (this build reads " + VERSION + ")");
            }
            int headerLength = in.getInt();
            if (headerLength < 0 || headerLength > in.remaining()) {
                throw damaged(file, "header length " + headerLength + " with " + in.remaining() + " bytes left");
            }
            byte[] headerBytes = new byte[headerLength];
            in.get(headerBytes);
            JsonNode h = JSON.readTree(headerBytes);
            if (h == null || !h.isObject()) {
                throw damaged(file, "the header is not a JSON object");
            }
            int[] layers = new int[field(file, h, "layerSizes").size()];
            for (int i = 0; i < layers.length; i++) {
                layers[i] = h.get("layerSizes").get(i).asInt();
            }
            List<CurvePoint> curve = new ArrayList<>();
            for (JsonNode n : field(file, h, "curve")) {
                int[] ks = new int[field(file, n, "ks").size()];
                double[] acc = new double[ks.length];
                if (field(file, n, "accuracy").size() != ks.length) {
                    throw damaged(file, "a curve point has " + ks.length + " Ks and " + n.get("accuracy").size() + " accuracies");
                }
                for (int i = 0; i < ks.length; i++) {
                    ks[i] = n.get("ks").get(i).asInt();
                    acc[i] = n.get("accuracy").get(i).asDouble();
                }
                curve.add(new CurvePoint(field(file, n, "epoch").asInt(), field(file, n, "meanLoss").asDouble(),
                        new TopKAccuracy(ks, acc), field(file, n, "trainSeconds").asDouble()));
            }
            ParameterLayout layout = ParameterLayout.fromJson(field(file, h, "parameters"), file.toString());
            // Both arrays follow the header and nothing else: check the bytes before allocating either.
            long needed = 8L * layout.size();
            if (in.remaining() != needed) {
                throw damaged(file, layout.entries().size() + " parameters of " + layout.size() + " values need "
                        + needed + " bytes after the header, the file has " + in.remaining());
            }
            float[] values = readFloats(in, layout.size());
            float[] accumulators = readFloats(in, layout.size());
            return new Checkpoint(field(file, h, "epoch").asInt(), field(file, h, "shuffleSeed").asLong(), layers, curve,
                    new ModelState(layout, values, accumulators));
        } catch (JsonProcessingException e) {
            throw damaged(file, "the header is not valid JSON (" + e.getOriginalMessage() + ")");
        } catch (BufferUnderflowException e) {
            throw damaged(file, "it ends early");
        }
    }

    private static JsonNode field(Path file, JsonNode node, String name) throws IOException {
        JsonNode v = node.get(name);
        if (v == null || v.isNull()) {
            throw damaged(file, "the header lacks '" + name + "'");
        }
        return v;
    }

    private static IOException damaged(Path file, String what) {
        return new IOException(file + " is truncated or damaged: " + what);
    }

    private static void writeFloats(DataOutputStream out, float[] a) throws IOException {
        for (float f : a) {
            out.writeFloat(f);
        }
    }

    private static float[] readFloats(ByteBuffer in, int n) {
        float[] a = new float[n];
        in.asFloatBuffer().get(a);
        in.position(in.position() + 4 * n);
        return a;
    }
}
