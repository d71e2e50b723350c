package io.deepretrieval.model.train;

import io.deepretrieval.model.towers.Parameter;
import io.deepretrieval.model.towers.TwoTowerModel;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;

/**
 * Every parameter and its Adagrad accumulator, flattened into two plain {@code float[]} as {@code layout} places
 * them (the model's parameter order when taken from a model), beside the layout that names and shapes each one.
 * This is what parameter averaging ships between driver and workers (plain arrays serialize with Java's serializer
 * or Kryo alike, with no ND4J serializer to register) and what checkpoints store.
 *
 * <p>A serving-only state ({@link #servingOnly()}) has no accumulators: a fitted model needs none to serve, and
 * they would double what it keeps and saves.
 *
 * @param accumulators the Adagrad accumulators in the same layout, or null for a serving-only state
 */
public record ModelState(ParameterLayout layout, float[] values, float[] accumulators) implements Serializable {

    public ModelState {
        Objects.requireNonNull(layout, "layout");
        Objects.requireNonNull(values, "values");
        if (values.length != layout.size()) {
            throw new IllegalArgumentException(values.length + " values for a layout of " + layout.size());
        }
        if (accumulators != null && accumulators.length != values.length) {
            throw new IllegalArgumentException(accumulators.length + " accumulators for " + values.length + " values");
        }
    }

    /** Copies the model's current parameters and optimizer state. */
    public static ModelState of(TwoTowerModel model) {
        ParameterLayout layout = ParameterLayout.of(model);
        float[] values = new float[layout.size()];
        float[] acc = new float[layout.size()];
        int offset = 0;
        for (Parameter p : model.parameters().values()) {
            int len = p.values().length;
            System.arraycopy(p.values(), 0, values, offset, len);
            System.arraycopy(p.accumulator(), 0, acc, offset, len);
            offset += len;
        }
        return new ModelState(layout, values, acc);
    }

    /** The same values without the accumulators (shares the values array). */
    public ModelState servingOnly() {
        return accumulators == null ? this : new ModelState(layout, values, null);
    }

    /** True unless this is a serving-only state. */
    public boolean hasAccumulators() {
        return accumulators != null;
    }

    /** Writes this state into the model; see {@link #applyTo(TwoTowerModel, String)}. */
    public void applyTo(TwoTowerModel model) {
        applyTo(model, "the state");
    }

    /**
     * Writes this state into the model, each parameter by name; a serving-only state leaves the model's accumulators
     * as they are. Nothing is written unless every parameter of the model is here with its shape.
     *
     * @param source what the state came from (a file), named in the error
     * @throws IllegalArgumentException naming {@code source} and the first parameter missing, extra or of another shape
     */
    public void applyTo(TwoTowerModel model, String source) {
        layout.verify(ParameterLayout.of(model), source);
        for (Parameter p : model.parameters().values()) {
            int offset = layout.offset(layout.indexOf(p.name()));
            int len = p.values().length;
            System.arraycopy(values, offset, p.values(), 0, len);
            if (accumulators != null) {
                System.arraycopy(accumulators, offset, p.accumulator(), 0, len);
            }
            p.valuesChanged();
        }
    }

    /** A copy of one parameter's values. */
    public float[] values(String name) {
        return slice(values, name);
    }

    /** A copy of one parameter's accumulator (null for a serving-only state). */
    public float[] accumulators(String name) {
        return accumulators == null ? null : slice(accumulators, name);
    }

    private float[] slice(float[] flat, String name) {
        int i = layout.indexOf(name);
        if (i < 0) {
            throw new IllegalArgumentException("no parameter '" + name + "' in " + layout);
        }
        int from = layout.offset(i);
        return Arrays.copyOfRange(flat, from, from + layout.entries().get(i).size());
    }

    /** Number of trainable values in the model. */
    public static int size(TwoTowerModel model) {
        int n = 0;
        for (Map.Entry<String, Parameter> e : model.parameters().entrySet()) {
            n = Math.addExact(n, e.getValue().values().length); // one float[] holds them all
        }
        return n;
    }

    /** True when no value or accumulator is NaN or infinite. */
    public boolean isFinite() {
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i]) || accumulators != null && !Float.isFinite(accumulators[i])) {
                return false;
            }
        }
        return true;
    }
}
