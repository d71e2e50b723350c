package io.deepretrieval.spark.ml;

import io.deepretrieval.model.features.CandidateCorpus;
import io.deepretrieval.model.features.FeatureSpec;
import io.deepretrieval.model.features.Interactions;
import io.deepretrieval.model.features.TowerFeatures;
import io.deepretrieval.spark.preprocess.EncodedRatings;
import io.deepretrieval.spark.preprocess.InteractionHistories;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;

/**
 * The first steps of {@link TwoTowerRetrieval#fit}, prepare and split, as a value: the fitted feature spec, the
 * candidate corpus, and the encoded training and held-out rows, cached until {@link #close()}. {@code fit} trains
 * on exactly these ({@link TwoTowerRetrieval#train}, then {@link TwoTowerRetrieval#evaluate}); benchmarks and
 * tests that drive the trainers directly take them from {@link TwoTowerRetrieval#prepare}, so that there is one
 * preprocessing.
 */
public final class PreparedInteractions implements AutoCloseable {
    private final InteractionColumns columns;
    private final TowerFeatures features;
    private final FeatureSpec spec;
    private final CandidateCorpus corpus;
    private final Dataset<Row> trainRows;
    private final Dataset<Row> heldOutRows;
    private final boolean validating;
    private final InteractionHistories trainingHistories;
    private final DataType userType;
    private final DataType itemType;
    private final SkippedRows skippedRows;
    private final Runnable release;
    private Interactions train;
    private Interactions heldOut;

    PreparedInteractions(InteractionColumns columns, TowerFeatures features, FeatureSpec spec, CandidateCorpus corpus,
                         Dataset<Row> trainRows, Dataset<Row> heldOutRows, boolean validating,
                         InteractionHistories trainingHistories, DataType userType, DataType itemType,
                         SkippedRows skippedRows, Runnable release) {
        this.columns = columns;
        this.features = features;
        this.spec = spec;
        this.corpus = corpus;
        this.trainRows = trainRows;
        this.heldOutRows = heldOutRows;
        this.validating = validating;
        this.trainingHistories = trainingHistories;
        this.userType = userType;
        this.itemType = itemType;
        this.skippedRows = skippedRows;
        this.release = release;
    }

    InteractionColumns columns() {
        return columns;
    }

    TowerFeatures features() {
        return features;
    }

    /** Whether rows were held out for validation (the split may still have left none). */
    boolean validating() {
        return validating;
    }

    /** The histories the training rows give (persisted until {@link #close()}); null without a history feature. */
    InteractionHistories trainingHistories() {
        return trainingHistories;
    }

    /** The input's type of the user column: the fitted model accepts it in queries. */
    DataType userType() {
        return userType;
    }

    /** What {@code handleInvalid skip} left out of the input (nothing under {@code error}). */
    public SkippedRows skippedRows() {
        return skippedRows;
    }

    /** The input's type of the item column. */
    DataType itemType() {
        return itemType;
    }

    /** The fitted preprocessing. */
    public FeatureSpec spec() {
        return spec;
    }

    /** Every item as a candidate record. */
    public CandidateCorpus corpus() {
        return corpus;
    }

    /** The encoded training rows (cached). */
    public Dataset<Row> trainRows() {
        return trainRows;
    }

    /** The encoded held-out (validation) rows (cached; empty without validation). */
    public Dataset<Row> heldOutRows() {
        return heldOutRows;
    }

    /** The training rows in the driver, collected on first use. */
    public synchronized Interactions train() {
        if (train == null) {
            train = EncodedRatings.collect(trainRows, spec);
        }
        return train;
    }

    /** The held-out rows in the driver, collected on first use. */
    public synchronized Interactions heldOut() {
        if (heldOut == null) {
            heldOut = EncodedRatings.collect(heldOutRows, spec);
        }
        return heldOut;
    }

    /** Releases the Spark caches behind the rows. */
    @Override
    public void close() {
        release.run();
    }
}
