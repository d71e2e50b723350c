package io.deepretrieval.model.serving;

/** One recommended item: its id, its label (the title) and its score (the dot product of the embeddings). */
public record Recommendation(String itemId, String label, float score) {
}
