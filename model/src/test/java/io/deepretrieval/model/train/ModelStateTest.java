package io.deepretrieval.model.train;

import io.deepretrieval.model.towers.ModelConfig;
import io.deepretrieval.model.towers.Parameter;
import io.deepretrieval.model.towers.TwoTowerModel;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A state is checked by name and shape against the model it fills, and written into it by name. */
class ModelStateTest {
    private static final ModelConfig CONFIG = ModelConfig.tutorial(new int[]{16, 8}, 3);

    /**
     * Two models of the same total size whose tables differ in shape: 60 users and 80 movies against 80 users and
     * 70 movies (the title token table shrinks with the movies, so the totals match; see {@link SyntheticData}).
     */
    static TwoTowerModel[] sameTotalOtherShapes() {
        TwoTowerModel a = new TwoTowerModel(CONFIG, new SyntheticData(60, 80, 2000, 4).spec);
        TwoTowerModel b = new TwoTowerModel(CONFIG, new SyntheticData(80, 70, 2000, 4).spec);
        assertEquals(ModelState.size(a), ModelState.size(b), "the two models must hold as many values");
        assertEquals(a.parameters().keySet(), b.parameters().keySet());
        return new TwoTowerModel[]{a, b};
    }

    /** The first parameter, in {@code model}'s order, whose shape differs in {@code other}. */
    static Parameter firstOtherShape(TwoTowerModel model, TwoTowerModel other) {
        for (Parameter p : model.parameters().values()) {
            if (!Arrays.equals(p.shape(), other.parameters().get(p.name()).shape())) {
                return p;
            }
        }
        throw new AssertionError("the models have the same shapes");
    }

    @Test
    void aStateOfOtherShapesWithTheSameTotalIsRefusedNamingTheFirstMismatch() {
        TwoTowerModel[] m = sameTotalOtherShapes();
        Parameter expected = firstOtherShape(m[1], m[0]);
        float[] before = ModelState.of(m[1]).values();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelState.of(m[0]).applyTo(m[1]));
        assertTrue(e.getMessage().contains("'" + expected.name() + "'")
                && e.getMessage().contains(Arrays.toString(m[0].parameters().get(expected.name()).shape()))
                && e.getMessage().contains(Arrays.toString(expected.shape())), e.getMessage());
        assertArrayEquals(before, ModelState.of(m[1]).values(), "nothing is written before the check");
    }

    private static ParameterLayout.Entry entry(String name, long... shape) {
        return new ParameterLayout.Entry(name, shape);
    }

    @Test
    void theFirstMissingExtraOrReshapedParameterIsNamedWithTheSource() {
        ParameterLayout model = new ParameterLayout(List.of(entry("a", 2, 3), entry("b", 4)));
        model.verify(new ParameterLayout(List.of(entry("b", 4), entry("a", 2, 3))), "same by name");
        String missing = assertThrows(IllegalArgumentException.class,
                () -> new ParameterLayout(List.of(entry("a", 2, 3))).verify(model, "f.bin")).getMessage();
        assertTrue(missing.startsWith("f.bin") && missing.contains("no parameter 'b'"), missing);
        String extra = assertThrows(IllegalArgumentException.class,
                () -> new ParameterLayout(List.of(entry("a", 2, 3), entry("b", 4), entry("c", 1))).verify(model, "f.bin"))
                .getMessage();
        assertTrue(extra.startsWith("f.bin") && extra.contains("'c'") && extra.contains("does not have"), extra);
        // Both differ: the model's first is named. [3, 2] holds as many values as [2, 3].
        String reshaped = assertThrows(IllegalArgumentException.class,
                () -> new ParameterLayout(List.of(entry("a", 3, 2), entry("b", 2, 2))).verify(model, "f.bin")).getMessage();
        assertTrue(reshaped.startsWith("f.bin") && reshaped.contains("'a' has shape [3, 2], the model's is [2, 3]"), reshaped);
        assertThrows(IllegalArgumentException.class, () -> new ParameterLayout(List.of(entry("a", 1), entry("a", 2))));
        assertThrows(IllegalArgumentException.class, () -> entry("a", 2, -1));
        assertThrows(IllegalArgumentException.class, () -> new ParameterLayout(List.of(entry("a", 1L << 16, 1L << 16))));
    }

    @Test
    void aStateIsWrittenByNameWhateverTheOrderOfItsArrays() {
        TwoTowerModel source = new TwoTowerModel(CONFIG, new SyntheticData(60, 80, 2000, 4).spec);
        // The expected arrays come from the source's Parameter objects, laid out in reverse order by hand.
        List<Parameter> reversed = new ArrayList<>(source.parameters().values());
        Collections.reverse(reversed);
        List<ParameterLayout.Entry> entries = new ArrayList<>();
        float[] values = new float[ModelState.size(source)];
        float[] acc = new float[values.length];
        int at = 0;
        for (int i = 0; i < reversed.size(); i++) {
            Parameter p = reversed.get(i);
            entries.add(new ParameterLayout.Entry(p.name(), p.shape()));
            System.arraycopy(p.values(), 0, values, at, p.values().length);
            Arrays.fill(acc, at, at + p.values().length, i + 0.5f); // each parameter's accumulator its own value
            at += p.values().length;
        }
        ModelState state = new ModelState(new ParameterLayout(entries), values, acc);
        TwoTowerModel target = new TwoTowerModel(ModelConfig.tutorial(new int[]{16, 8}, 99), source.spec());
        state.applyTo(target);
        for (int i = 0; i < reversed.size(); i++) {
            Parameter want = reversed.get(i);
            Parameter got = target.parameters().get(want.name());
            assertArrayEquals(want.values(), got.values(), want.name());
            float[] wantAcc = new float[want.values().length];
            Arrays.fill(wantAcc, i + 0.5f);
            assertArrayEquals(wantAcc, got.accumulator(), want.name());
            assertArrayEquals(want.values(), state.values(want.name()), want.name());
        }
        // The graph computes with the written dense values, not only the Java arrays.
        assertArrayEquals(ModelState.of(source).values(), ModelState.of(target).values());
    }

    @Test
    void aServingOnlyStateHasNoAccumulatorsAndLeavesTheModelsOwn() {
        TwoTowerModel source = new TwoTowerModel(CONFIG, new SyntheticData(60, 80, 2000, 4).spec);
        ModelState serving = ModelState.of(source).servingOnly();
        assertNull(serving.accumulators());
        assertFalse(serving.hasAccumulators());
        assertTrue(serving.isFinite());
        TwoTowerModel target = new TwoTowerModel(ModelConfig.tutorial(new int[]{16, 8}, 99), source.spec());
        for (Parameter p : target.parameters().values()) {
            Arrays.fill(p.accumulator(), 7f);
        }
        serving.applyTo(target);
        for (Parameter p : source.parameters().values()) {
            Parameter got = target.parameters().get(p.name());
            assertArrayEquals(p.values(), got.values(), p.name());
            float[] sevens = new float[p.values().length];
            Arrays.fill(sevens, 7f);
            assertArrayEquals(sevens, got.accumulator(), p.name());
        }
    }

    @Test
    void arraysThatDoNotFitTheLayoutAreRefused() {
        ParameterLayout layout = new ParameterLayout(List.of(entry("a", 2, 3)));
        assertThrows(IllegalArgumentException.class, () -> new ModelState(layout, new float[5], new float[5]));
        assertThrows(IllegalArgumentException.class, () -> new ModelState(layout, new float[6], new float[5]));
    }

    @Test
    void aStateSurvivesJavaSerializationWithItsLayout() throws IOException, ClassNotFoundException {
        TwoTowerModel source = new TwoTowerModel(CONFIG, new SyntheticData(60, 80, 2000, 4).spec);
        ModelState state = ModelState.of(source);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(state); // as a Spark broadcast ships it
        }
        ModelState back;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            back = (ModelState) in.readObject();
        }
        assertEquals(state.layout(), back.layout());
        assertEquals(state.layout().offset(3), back.layout().offset(3));
        TwoTowerModel target = new TwoTowerModel(ModelConfig.tutorial(new int[]{16, 8}, 99), source.spec());
        back.applyTo(target);
        assertArrayEquals(state.values(), ModelState.of(target).values());
    }
}
