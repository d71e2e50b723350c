package io.deepretrieval.model.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.deepretrieval.model.io.AtomicFiles;
import io.deepretrieval.model.metrics.TopKAccuracy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Training state after an evaluation: parameters, Adagrad accumulators, the epoch reached, the shuffle seed and
 * the curve so far. One file, written atomically. The shuffle order of an epoch derives from (seed, epoch) alone
 * ({@link EpochShuffle}), so the seed is the whole random state and a resumed run continues exactly.
 *
 * <p>Layout: magic "DRCK", format version, a JSON header (epoch, seed, layer sizes, curve), then the values and
 * accumulators as float arrays. Plain data only: reading it deserializes no classes.
 */
public record Checkpoint(int epoch, long shuffleSeed, int[] layerSizes, List<CurvePoint> curve, ModelState state) {
    private static final int MAGIC = 0x4452434B; // "DRCK"
    private static final int VERSION = 1;
    private static final ObjectMapper JSON = new ObjectMapper();

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
        byte[] headerBytes = JSON.writeValueAsBytes(header);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(16 + headerBytes.length + state.values().length * 8);
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

    public static Checkpoint read(Path file) throws IOException {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(Files.readAllBytes(file)))) {
            if (in.readInt() != MAGIC) {
                throw new IOException(file + " is not a deep-retrieval checkpoint");
            }
            int version = in.readInt();
            if (version != VERSION) {
                throw new IOException(file + ": checkpoint format " + version + " is not supported (this build reads " + VERSION + ")");
            }
            byte[] headerBytes = new byte[in.readInt()];
            in.readFully(headerBytes);
            ObjectNode h = (ObjectNode) JSON.readTree(headerBytes);
            int[] layers = new int[h.get("layerSizes").size()];
            for (int i = 0; i < layers.length; i++) {
                layers[i] = h.get("layerSizes").get(i).asInt();
            }
            List<CurvePoint> curve = new ArrayList<>();
            for (var n : h.get("curve")) {
                int[] ks = new int[n.get("ks").size()];
                double[] acc = new double[ks.length];
                for (int i = 0; i < ks.length; i++) {
                    ks[i] = n.get("ks").get(i).asInt();
                    acc[i] = n.get("accuracy").get(i).asDouble();
                }
                curve.add(new CurvePoint(n.get("epoch").asInt(), n.get("meanLoss").asDouble(), new TopKAccuracy(ks, acc),
                        n.get("trainSeconds").asDouble()));
            }
            float[] values = readFloats(in);
            float[] accumulators = readFloats(in);
            return new Checkpoint(h.get("epoch").asInt(), h.get("shuffleSeed").asLong(), layers, curve,
                    new ModelState(values, accumulators));
        } catch (java.io.EOFException | ClassCastException | NullPointerException e) {
            throw new IOException(file + " is truncated or damaged", e);
        }
    }

    private static void writeFloats(DataOutputStream out, float[] a) throws IOException {
        out.writeInt(a.length);
        for (float f : a) {
            out.writeFloat(f);
        }
    }

    private static float[] readFloats(DataInputStream in) throws IOException {
        float[] a = new float[in.readInt()];
        for (int i = 0; i < a.length; i++) {
            a[i] = in.readFloat();
        }
        return a;
    }
}
