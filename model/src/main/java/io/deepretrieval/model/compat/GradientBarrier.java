package io.deepretrieval.model.compat;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ops.DynamicCustomOp;

import java.util.Collections;
import java.util.List;

/**
 * Passes a float value through unchanged while hiding where it came from from SameDiff's autodiff: the value is
 * reinterpreted as int32 bits and back ({@code bitcast}, no arithmetic). Autodiff only follows floating-point
 * variables, so nothing upstream of the barrier is differentiated through it. M2.1's {@code stop_gradient} does not
 * do this: its gradient is a zeros array that autodiff still pushes through every op upstream.
 */
public final class GradientBarrier {
    /** libnd4j's name of the op; {@link Nd4jCompat#check} verifies it exists. */
    static final String OP = "bitcast";

    private GradientBarrier() {
    }

    /** {@code value}, bit for bit, with no gradient path back to it. */
    public static SDVariable of(SameDiff sd, SDVariable value) {
        SDVariable bits = new BitCast(sd, value, DataType.INT).outputVariable();
        return new BitCast(sd, bits, value.dataType()).outputVariable();
    }

    /** libnd4j's {@code bitcast} with the target type as its integer argument (ND4J's own class takes it as an input). */
    private static final class BitCast extends DynamicCustomOp {
        private final DataType target;

        private BitCast(SameDiff sd, SDVariable in, DataType target) {
            super(null, sd, new SDVariable[]{in});
            this.target = target;
            addIArgument(target.toInt());
        }

        @Override
        public String opName() {
            return OP;
        }

        @Override
        public List<DataType> calculateOutputDataTypes(List<DataType> inputTypes) {
            return Collections.singletonList(target);
        }
    }
}
