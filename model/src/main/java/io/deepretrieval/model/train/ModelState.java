package io.deepretrieval.model.train;

import io.deepretrieval.model.towers.Parameter;
import io.deepretrieval.model.towers.TwoTowerModel;

import java.io.Serializable;
import java.util.Map;

/**
 * Every parameter and its Adagrad accumulator, flattened into two plain {@code float[]} in the model's fixed
 * parameter order. This is what parameter averaging ships between driver and workers (plain arrays serialize
 * with Java's serializer or Kryo alike, with no ND4J serializer to register) and what checkpoints store.
 */
public record ModelState(float[] values, float[] accumulators) implements Serializable {

    /** Copies the model's current parameters and optimizer state. */
    public static ModelState of(TwoTowerModel model) {
        int n = size(model);
        float[] values = new float[n];
        float[] acc = new float[n];
        int offset = 0;
        for (Parameter p : model.parameters().values()) {
            int len = p.values().length;
            System.arraycopy(p.values(), 0, values, offset, len);
            System.arraycopy(p.accumulator(), 0, acc, offset, len);
            offset += len;
        }
        return new ModelState(values, acc);
    }

    /** Writes this state into the model (same architecture and feature sizes). */
    public void applyTo(TwoTowerModel model) {
        if (values.length != size(model)) {
            throw new IllegalArgumentException("state holds " + values.length + " values, the model has " + size(model));
        }
        int offset = 0;
        for (Parameter p : model.parameters().values()) {
            int len = p.values().length;
            System.arraycopy(values, offset, p.values(), 0, len);
            System.arraycopy(accumulators, offset, p.accumulator(), 0, len);
            p.valuesChanged();
            offset += len;
        }
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
            if (!Float.isFinite(values[i]) || !Float.isFinite(accumulators[i])) {
                return false;
            }
        }
        return true;
    }
}
