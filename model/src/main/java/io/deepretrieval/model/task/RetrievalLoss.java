package io.deepretrieval.model.task;

import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * The TFRS {@code Retrieval} task: in-batch softmax. Logits are Q·Cᵀ over the batch; each query's own candidate is
 * its positive (identity labels) and the other candidates of the batch its negatives; the per-row softmax
 * cross-entropy is summed over the batch, not averaged:
 * {@code loss = Σᵢ (logsumexpⱼ(qᵢ·cⱼ) − qᵢ·cᵢ)}.
 *
 * <p>The loss's gradient with respect to the tower outputs is built in closed form in the forward graph, with
 * {@code E = exp(Q·Cᵀ − rowmax)} and {@code s} its row sums (so {@code P = E/s} is the row softmax):
 * {@code ∂loss/∂Q = P·C − C = (E·C)/s − C} and {@code ∂loss/∂C = Pᵀ·Q − Q = Eᵀ·(Q/s) − Q}. Dividing the
 * [B, d] products by {@code s} instead of normalising the B×B matrix saves a pass over it. Autodiff through the
 * loss ran exp, max and subtract backward over the 2,048×2,048 logits (~30-40 ms of a ~45 ms step in M2.1;
 * its {@code logSumExp} and {@code logSoftmax} gradients are broken and the fused softmax-CE gradient took
 * ~58 ms); this form costs ~17 ms. The towers are then differentiated through {@link #TOWER_OBJECTIVE}
 * {@code = Σ Q∘Gq + Σ C∘Gc}, with {@code Gq, Gc} the closed-form gradients behind a {@link GradientBarrier}:
 * autodiff sees them as constants, so the objective's gradient with respect to every tower parameter is exactly
 * the loss's (the chain rule with the B×B part done by hand), and one pass of the gradient function computes the
 * loss, the closed-form gradients and the towers' backward pass without differentiating any B×B op.
 */
public final class RetrievalLoss {
    public static final String LOGITS = "in_batch_logits";
    public static final String LOSS = "loss";
    /** ∂loss/∂Q, [B, d], in closed form. */
    public static final String QUERY_GRADIENT = "loss_gradient_wrt_queries";
    /** ∂loss/∂C, [B, d], in closed form. */
    public static final String CANDIDATE_GRADIENT = "loss_gradient_wrt_candidates";
    /** Σ Q∘Gq + Σ C∘Gc: the graph's loss variable for differentiation, equal in gradient to {@link #LOSS}. */
    public static final String TOWER_OBJECTIVE = "tower_backprop_objective";

    private RetrievalLoss() {
    }

    /**
     * Adds logits, the summed loss, its closed-form gradients and the tower objective to {@code sd}, and marks the
     * tower objective as the variable to differentiate. {@code dim} is the towers' output width.
     */
    public static SDVariable build(SameDiff sd, SDVariable queries, SDVariable candidates, long dim) {
        SDVariable logits = sd.mmul(LOGITS, queries, candidates, false, true, false);
        SDVariable rowMax = logits.max(true, 1);
        SDVariable shiftedExp = sd.math.exp(logits.sub(rowMax));
        // E·[C, 1] gives E·C and the row sums in one pass over E instead of two. (The ones column is built as
        // 0·rowMax + 1: M2.1's onesLike op logs a warning each time a graph is built.)
        SDVariable candidatesAndOnes = sd.concat(1, candidates, rowMax.mul(0.0).add(1.0));
        SDVariable product = sd.mmul(shiftedExp, candidatesAndOnes);
        SDVariable rowSum = product.get(SDIndex.all(), SDIndex.interval(dim, dim + 1));
        SDVariable expTimesCandidates = product.get(SDIndex.all(), SDIndex.interval(0L, dim));
        SDVariable positive = queries.mul(candidates).sum(true, 1);
        SDVariable loss = sd.identity(LOSS, sd.math.log(rowSum).add(rowMax).sub(positive).sum());

        SDVariable queryGradient = sd.identity(QUERY_GRADIENT, expTimesCandidates.div(rowSum).sub(candidates));
        SDVariable candidateGradient = sd.identity(CANDIDATE_GRADIENT,
                sd.mmul(shiftedExp, queries.div(rowSum), true, false, false).sub(queries));

        sd.identity(TOWER_OBJECTIVE, queries.mul(GradientBarrier.of(sd, queryGradient)).sum()
                .add(candidates.mul(GradientBarrier.of(sd, candidateGradient)).sum()));
        sd.setLossVariables(TOWER_OBJECTIVE);
        return loss;
    }
}
