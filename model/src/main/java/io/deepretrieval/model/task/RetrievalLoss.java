package io.deepretrieval.model.task;

import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import io.deepretrieval.model.compat.GradientBarrier;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The TFRS {@code Retrieval} task: in-batch softmax. Logits are Q·Cᵀ; query {@code i}'s positive is candidate
 * {@code i} (identity labels) and every other candidate is a negative; the per-row softmax cross-entropy is summed,
 * not averaged: {@code loss = Σᵢ (logsumexpⱼ(qᵢ·cⱼ) − qᵢ·cᵢ)}.
 *
 * <p>Q may have fewer rows than C ([n, d] against [m, d], n ≤ m; the first n candidates are the positives). That
 * lets a training step split a batch's queries into slices, each scored against all of the batch's candidates
 * (reordered so the slice's own positives come first): the slices' losses and gradients add up to the whole
 * batch's, so the slices can run on separate threads ({@code TrainingStep}).
 *
 * <p>The log-sum-exp part's gradient is built in closed form in the forward graph, with
 * {@code E = exp(Q·Cᵀ − rowmax)} and {@code s} its row sums (so {@code P = E/s} is the row softmax):
 * {@code ∂/∂Q = P·C = (E·C)/s} and {@code ∂/∂C = Pᵀ·Q = Eᵀ·(Q/s)}. Dividing the [·, d] products by {@code s}
 * instead of normalising the n×m matrix saves a pass over it. Autodiff through the loss ran exp, max and subtract
 * backward over the 2,048×2,048 logits (~30-40 ms of a ~45 ms step in M2.1; its {@code logSumExp} and
 * {@code logSoftmax} gradients are broken and the fused softmax-CE gradient took ~58 ms); this form costs ~17 ms.
 * The towers are differentiated through {@link #TOWER_OBJECTIVE} {@code = Σ Q∘Gq + Σ C∘Gc − Σᵢ qᵢ·cᵢ}, with
 * {@code Gq, Gc} the closed-form parts behind a {@link GradientBarrier}: autodiff sees them as constants, so the
 * objective's gradient with respect to every tower parameter is exactly the loss's, and one pass of the gradient
 * function computes the loss, the closed-form parts and the towers' backward pass without differentiating any
 * n×m op. The positive term is left to autodiff: it is [n, d] work, and its gradient lands on the first n
 * candidates without any scatter written here.
 */
public final class RetrievalLoss {
    public static final String LOGITS = "in_batch_logits";
    public static final String LOSS = "loss";
    /** ∂/∂Q of the log-sum-exp part, [n, d], in closed form (the loss's gradient is this minus the positives). */
    public static final String SOFTMAX_QUERY_GRADIENT = "softmax_gradient_wrt_queries";
    /** ∂/∂C of the log-sum-exp part, [m, d], in closed form (the loss's gradient subtracts Q from its first n rows). */
    public static final String SOFTMAX_CANDIDATE_GRADIENT = "softmax_gradient_wrt_candidates";
    /** Σ Q∘Gq + Σ C∘Gc − Σᵢ qᵢ·cᵢ: the graph's loss variable for differentiation, equal in gradient to {@link #LOSS}. */
    public static final String TOWER_OBJECTIVE = "tower_backprop_objective";
    /** Input [n, m] added to the (temperature-scaled) logits when the objective masks or corrects them. */
    public static final String LOGIT_BIAS = "logit_bias";
    /** Input [n, 1]: the bias of each row's own positive (the diagonal of {@link #LOGIT_BIAS}), for the loss value. */
    public static final String POSITIVE_BIAS = "positive_logit_bias";

    private RetrievalLoss() {
    }

    /**
     * Adds logits, the summed loss, its closed-form parts and the tower objective to {@code sd}, and marks the
     * tower objective as the variable to differentiate. {@code dim} is the towers' output width.
     */
    public static SDVariable build(SameDiff sd, SDVariable queries, SDVariable candidates, long dim) {
        return build(sd, queries, candidates, dim, RetrievalObjective.TUTORIAL);
    }

    /**
     * As {@link #build(SameDiff, SDVariable, SDVariable, long)} with an objective's options: the logits become
     * {@code z = Q·Cᵀ/T + B} ({@code B} the {@link #LOGIT_BIAS} input when the objective is biased), and the
     * closed-form parts carry the {@code 1/T}: {@code ∂/∂Q = (P·C)/T}, {@code ∂/∂C = (Pᵀ·Q)/T}, the positive term
     * {@code q_i·c_i/T}. With the tutorial's objective the graph is exactly the plain one.
     */
    public static SDVariable build(SameDiff sd, SDVariable queries, SDVariable candidates, long dim,
                                   RetrievalObjective objective) {
        double inverseT = 1.0 / objective.temperature();
        SDVariable logits = sd.mmul(LOGITS, queries, candidates, false, true, false);
        if (inverseT != 1.0) {
            logits = logits.mul(inverseT);
        }
        if (objective.biased()) {
            logits = logits.add(sd.placeHolder(LOGIT_BIAS, org.nd4j.linalg.api.buffer.DataType.FLOAT, -1, -1));
        }
        SDVariable rowMax = logits.max(true, 1);
        SDVariable shiftedExp = sd.math.exp(logits.sub(rowMax));
        // E·[C, 1] gives E·C and the row sums in one pass over E instead of two. (The ones column is built from
        // C's first column: M2.1's onesLike op logs a warning each time a graph is built.)
        SDVariable ones = candidates.get(SDIndex.all(), SDIndex.interval(0L, 1L)).mul(0.0).add(1.0);
        SDVariable product = sd.mmul(shiftedExp, sd.concat(1, candidates, ones));
        SDVariable rowSum = product.get(SDIndex.all(), SDIndex.interval(dim, dim + 1));
        SDVariable expTimesCandidates = product.get(SDIndex.all(), SDIndex.interval(0L, dim));
        // The first n candidates, n = Q's rows: a slice sized by Q at run time.
        SDVariable positives = sd.slice(candidates, sd.constant(Nd4j.createFromArray(0L, 0L)), sd.shape(queries));
        SDVariable positiveLogits = queries.mul(positives).sum(true, 1);
        if (inverseT != 1.0) {
            positiveLogits = positiveLogits.mul(inverseT);
        }
        SDVariable positiveZ = objective.biased()
                ? positiveLogits.add(sd.placeHolder(POSITIVE_BIAS, org.nd4j.linalg.api.buffer.DataType.FLOAT, -1, 1))
                : positiveLogits;
        // Sums keep their dimensions ([1, 1], not scalars): the session's array cache takes released scalars but
        // never hands them out again, so every scalar output of a step stayed cached for good (measured: 8 a step,
        // resident memory +1.2 GB over a 300-epoch run).
        sd.identity(LOSS, sd.math.log(rowSum).add(rowMax).sub(positiveZ).sum(true, 0, 1));

        SDVariable queryGrad = expTimesCandidates.div(rowSum);
        SDVariable candidateGrad = sd.mmul(shiftedExp, queries.div(rowSum), true, false, false);
        if (inverseT != 1.0) {
            queryGrad = queryGrad.mul(inverseT);
            candidateGrad = candidateGrad.mul(inverseT);
        }
        SDVariable queryPart = sd.identity(SOFTMAX_QUERY_GRADIENT, queryGrad);
        SDVariable candidatePart = sd.identity(SOFTMAX_CANDIDATE_GRADIENT, candidateGrad);

        sd.identity(TOWER_OBJECTIVE, queries.mul(GradientBarrier.of(sd, queryPart)).sum(true, 0, 1)
                .add(candidates.mul(GradientBarrier.of(sd, candidatePart)).sum(true, 0, 1))
                .sub(positiveLogits.sum(true, 0, 1)));
        sd.setLossVariables(TOWER_OBJECTIVE);
        return sd.getVariable(LOSS);
    }
}
