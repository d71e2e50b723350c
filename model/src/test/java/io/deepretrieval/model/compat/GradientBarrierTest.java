package io.deepretrieval.model.compat;

import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class GradientBarrierTest {
    @Test
    void passesTheValueBitForBit() {
        float[] values = {1.5f, -0.0f, Float.MIN_VALUE, 3.4e38f, -7.25e-12f, Float.NaN};
        SameDiff sd = SameDiff.create();
        SDVariable out = GradientBarrier.of(sd, sd.constant(Nd4j.createFromArray(values)));
        INDArray result = sd.output(Map.of(), out.name()).get(out.name());
        assertEquals(DataType.FLOAT, result.dataType());
        float[] back = result.toFloatVector();
        for (int i = 0; i < values.length; i++) {
            assertEquals(Float.floatToRawIntBits(values[i]), Float.floatToRawIntBits(back[i]), "element " + i);
        }
    }

    @Test
    void autodiffDoesNotDifferentiateThroughIt() {
        // f(x) = Σ x ∘ barrier(x²): with the barrier, df/dx = x²; without it, it would be 3x².
        float[] x = {1, 2, -3};
        SameDiff sd = SameDiff.create();
        SDVariable v = sd.var("x", Nd4j.createFromArray(x));
        sd.setLossVariables(v.mul(GradientBarrier.of(sd, v.mul(v))).sum());
        float[] gradient = sd.calculateGradients(Map.of(), "x").get("x").toFloatVector();
        assertArrayEquals(new float[]{1, 4, 9}, gradient);
    }
}
