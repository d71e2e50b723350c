package io.deepretrieval.model.train;

import io.deepretrieval.model.metrics.TopKAccuracy;

/** One point of an accuracy curve: the test accuracy after {@code epoch} epochs and that epoch's mean batch loss. */
public record CurvePoint(int epoch, double meanLoss, TopKAccuracy accuracy, double trainSeconds) {
}
