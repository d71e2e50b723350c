package io.deepretrieval.model.features;

import java.util.List;

/**
 * Every candidate item, encoded: its id, a display label (the title where there is one) and its candidate-tower
 * inputs. Records are addressed by position (0..size-1); the metric ranks against all of them.
 */
public final class CandidateCorpus implements java.io.Serializable {
    private static final long serialVersionUID = 2L;
    private final String[] itemIds;
    private final String[] labels;
    private final FeatureColumns features;

    public CandidateCorpus(List<String> itemIds, List<String> labels, FeatureColumns features) {
        if (itemIds.size() != labels.size() || itemIds.size() != features.rows()) {
            throw new IllegalArgumentException("item ids, labels and features differ in length");
        }
        this.itemIds = itemIds.toArray(String[]::new);
        this.labels = labels.toArray(String[]::new);
        this.features = features;
    }

    /**
     * Encodes items from their raw values, one per candidate column ({@code byColumn.get(record, column)}, columns in
     * {@link FeatureSpec#candidateColumns()} order).
     */
    public static CandidateCorpus encode(FeatureSpec spec, List<String> itemIds, List<String> labels,
                                         FeatureColumns.Values byColumn) {
        return new CandidateCorpus(itemIds, labels, spec.encodeCandidates(itemIds.size(), byColumn));
    }

    public int size() {
        return itemIds.length;
    }

    /** The record's item id. */
    public String itemId(int record) {
        return itemIds[record];
    }

    /** The record's display label (its title in the tutorial). */
    public String label(int record) {
        return labels[record];
    }

    /** Every record's candidate-tower inputs. */
    public FeatureColumns features() {
        return features;
    }

    /** The candidate inputs of some records, gathered once for training feeds and serving graphs. */
    public FeatureColumns inputs(int[] records) {
        return features.gather(records);
    }

    /** Every record's position, 0..size-1. */
    public int[] allRecords() {
        return java.util.stream.IntStream.range(0, size()).toArray();
    }

    @Override
    public String toString() {
        return "CandidateCorpus[" + size() + " records, first=" + (size() > 0 ? labels[0] : "none") + "]";
    }
}
