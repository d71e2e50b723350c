package io.deepretrieval.model.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.deepretrieval.model.towers.Parameter;
import io.deepretrieval.model.towers.TwoTowerModel;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The names and shapes of a model's parameters, in the order their values sit in a flat {@link ModelState}, each
 * at its offset. Every parameter is float32 ({@link #DTYPE}). Saved states carry their layout so that a load can
 * check it against the model it fills instead of trusting the total length: tables of other shapes with the same
 * total would otherwise load permuted.
 */
public final class ParameterLayout implements Serializable {
    /** The element type of every parameter, as files name it. */
    public static final String DTYPE = "float32";

    /** One parameter: its name and shape (row-major). */
    public record Entry(String name, long[] shape) implements Serializable {
        public Entry {
            Objects.requireNonNull(name, "name");
            shape = shape.clone();
            for (long d : shape) {
                if (d < 0) {
                    throw new IllegalArgumentException("parameter '" + name + "': negative dimension in shape "
                            + Arrays.toString(shape));
                }
            }
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        /** Values in the parameter; throws when more than an int can count. */
        public int size() {
            long n = 1;
            for (long d : shape) {
                n *= d;
                if (n > Integer.MAX_VALUE) {
                    throw new IllegalArgumentException("parameter '" + name + "': shape " + Arrays.toString(shape)
                            + " holds more than " + Integer.MAX_VALUE + " values");
                }
            }
            return (int) n;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Entry e && name.equals(e.name) && Arrays.equals(shape, e.shape);
        }

        @Override
        public int hashCode() {
            return 31 * name.hashCode() + Arrays.hashCode(shape);
        }

        @Override
        public String toString() {
            return "'" + name + "' " + Arrays.toString(shape);
        }
    }

    private final List<Entry> entries;
    private final int[] offsets;
    private final int size;
    private final Map<String, Integer> index;

    /**
     * A layout of these parameters, in this order.
     *
     * @throws IllegalArgumentException on a repeated name or when the values together exceed an int's count
     */
    public ParameterLayout(List<Entry> entries) {
        this.entries = List.copyOf(entries);
        this.offsets = new int[this.entries.size()];
        this.index = new HashMap<>();
        int offset = 0;
        for (int i = 0; i < offsets.length; i++) {
            Entry e = this.entries.get(i);
            if (index.put(e.name(), i) != null) {
                throw new IllegalArgumentException("parameter '" + e.name() + "' appears twice");
            }
            offsets[i] = offset;
            try {
                offset = Math.addExact(offset, e.size()); // one float[] holds them all
            } catch (ArithmeticException overflow) {
                throw new IllegalArgumentException("the parameters hold more than " + Integer.MAX_VALUE + " values");
            }
        }
        this.size = offset;
    }

    /** The layout of a model's parameters, in {@link TwoTowerModel#parameters()} order. */
    public static ParameterLayout of(TwoTowerModel model) {
        List<Entry> entries = new ArrayList<>(model.parameters().size());
        for (Parameter p : model.parameters().values()) {
            entries.add(new Entry(p.name(), p.shape()));
        }
        return new ParameterLayout(entries);
    }

    public List<Entry> entries() {
        return entries;
    }

    /** Values in all parameters together. */
    public int size() {
        return size;
    }

    /** The position of a parameter, or -1 when the layout has none of that name. */
    public int indexOf(String name) {
        return index.getOrDefault(name, -1);
    }

    /** Where the parameter at {@code i} starts in the flat arrays. */
    public int offset(int i) {
        return offsets[i];
    }

    /**
     * Checks that this layout (read from {@code source}) holds exactly the parameters of {@code expected}, by name,
     * each with the same shape; the order may differ, since states are copied by name.
     *
     * @throws IllegalArgumentException naming {@code source} and the first mismatch in {@code expected}'s order, then
     *                                  any parameter {@code expected} lacks
     */
    public void verify(ParameterLayout expected, String source) {
        for (Entry e : expected.entries) {
            int i = indexOf(e.name());
            if (i < 0) {
                throw new IllegalArgumentException(source + " has no parameter '" + e.name() + "' (shape "
                        + Arrays.toString(e.shape) + ") of the model; it holds " + names());
            }
            if (!Arrays.equals(entries.get(i).shape, e.shape)) {
                throw new IllegalArgumentException(source + ": parameter '" + e.name() + "' has shape "
                        + Arrays.toString(entries.get(i).shape) + ", the model's is " + Arrays.toString(e.shape));
            }
        }
        for (Entry e : entries) {
            if (expected.indexOf(e.name()) < 0) {
                throw new IllegalArgumentException(source + " holds parameter '" + e.name() + "' (shape "
                        + Arrays.toString(e.shape) + "), which the model does not have");
            }
        }
    }

    /** The layout as files keep it: a JSON list of {@code {"name", "shape", "dtype"}} in this order. */
    public ArrayNode toJson() {
        ArrayNode list = JsonNodeFactory.instance.arrayNode();
        for (Entry e : entries) {
            ObjectNode n = list.addObject().put("name", e.name());
            ArrayNode shape = n.putArray("shape");
            for (long d : e.shape) {
                shape.add(d);
            }
            n.put("dtype", DTYPE);
        }
        return list;
    }

    /**
     * Reads {@link #toJson()}'s list, checking each shape (non-negative integers, at most an int's count of values
     * in all) and dtype.
     *
     * @param source the file it came from, named in the errors
     * @throws IOException "{@code <source>} is truncated or damaged: ..." for a malformed list, or naming the
     *                     parameter stored as another dtype
     */
    public static ParameterLayout fromJson(JsonNode list, String source) throws IOException {
        if (list == null || !list.isArray()) {
            throw damaged(source, "the parameter list is missing");
        }
        List<Entry> entries = new ArrayList<>(list.size());
        for (JsonNode p : list) {
            JsonNode name = p.get("name");
            JsonNode shapeNode = p.get("shape");
            if (name == null || !name.isTextual() || shapeNode == null || !shapeNode.isArray()) {
                throw damaged(source, "parameter entry " + p + " lacks a name or a shape");
            }
            long[] shape = new long[shapeNode.size()];
            for (int i = 0; i < shape.length; i++) {
                JsonNode d = shapeNode.get(i);
                if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0) {
                    throw damaged(source, "parameter '" + name.asText() + "' has shape " + shapeNode);
                }
                shape[i] = d.asLong();
            }
            String dtype = p.path("dtype").asText();
            if (!dtype.equals(DTYPE)) {
                throw new IOException(source + ": parameter '" + name.asText() + "' is stored as '" + dtype
                        + "'; this build reads " + DTYPE + " only");
            }
            entries.add(new Entry(name.asText(), shape));
        }
        try {
            return new ParameterLayout(entries);
        } catch (IllegalArgumentException e) { // a repeated name, or more values than one array holds
            throw damaged(source, e.getMessage());
        }
    }

    private static IOException damaged(String source, String what) {
        return new IOException(source + " is truncated or damaged: " + what);
    }

    private List<String> names() {
        return entries.stream().map(Entry::name).toList();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ParameterLayout l && entries.equals(l.entries);
    }

    @Override
    public int hashCode() {
        return entries.hashCode();
    }

    @Override
    public String toString() {
        return entries.toString();
    }
}
