package io.deepretrieval.spark.experiment;

import io.deepretrieval.spark.ml.TwoTowerRetrieval;

import java.util.List;

/**
 * One tower setting of the objective experiment: the retrieval-objective options, the towers' {@link Features}, and
 * whether its length is chosen by early stopping (then refitted on all training rows for the chosen epoch count) or
 * fixed at the maximum; {@code unseenUsers}: vocabularies of the training rows only (preprocessOn train), so users
 * without training rows get the out-of-vocabulary row, which {@code idDropout} (a share of training examples) trains;
 * {@code embeddingDim} and {@code learningRate} override the Estimator's defaults when positive.
 */
public record Variant(String name, double temperature, boolean removeAccidentalHits, boolean logQCorrection,
                      int mixedNegatives, Features features, boolean earlyStopping, boolean unseenUsers,
                      double idDropout, int embeddingDim, double learningRate) {
    /** With the Estimator's embedding width and learning rate. */
    public Variant(String name, double temperature, boolean removeAccidentalHits, boolean logQCorrection,
                   int mixedNegatives, Features features, boolean earlyStopping, boolean unseenUsers,
                   double idDropout) {
        this(name, temperature, removeAccidentalHits, logQCorrection, mixedNegatives, features, earlyStopping,
                unseenUsers, idDropout, 0, 0);
    }

    /** Without ID dropout and with every row's vocabularies (the tutorial's preprocessing). */
    public Variant(String name, double temperature, boolean removeAccidentalHits, boolean logQCorrection,
                   int mixedNegatives, Features features, boolean earlyStopping) {
        this(name, temperature, removeAccidentalHits, logQCorrection, mixedNegatives, features, earlyStopping, false, 0);
    }

    /** The tutorial's candidate features plus the movie's genres. */
    static final String[] SIDE_CANDIDATE = {"title=title:categorical", "title_token=title:text:10000",
            "genres:text:32"};
    /** The candidate tower of the history variants: the movie id (the table a history can share) and title tokens. */
    static final String[] ITEM_CANDIDATE = {"item=movie_id:categorical", "title_token=title:text:10000"};

    /**
     * The towers' inputs: the tutorial's, or ML-100k's demographics ({@code u.user}) added to the query tower and the
     * genres to the candidate tower, with the tutorial's user id and timestamp ({@code SIDE}), without the timestamp
     * (whose buckets of a later period get no training rows on a temporal split), or without both (a cold-start
     * query tower).
     */
    public enum Features {
        TUTORIAL(false),
        SIDE(true, "user=user_id:categorical", "timestamp=timestamp:timestamp:1000"),
        SIDE_WITHOUT_TIME(true, "user=user_id:categorical"),
        DEMOGRAPHICS(true),
        /** The user id and the latest 50 items through the candidate item table (no time: see the results). */
        HISTORY50(new String[]{"user=user_id:categorical", "recent=movie_id:history:50:shareWith=item"}),
        /** The latest 50 items alone: the query knows the user only by what they did. */
        HISTORY50_WITHOUT_ID(new String[]{"recent=movie_id:history:50:shareWith=item"}),
        /** The user id and the latest 50 items through a history table of their own. */
        HISTORY50_SEPARATE(new String[]{"user=user_id:categorical", "recent=movie_id:history:50"}),
        /** The user id and the latest 10 items through the candidate item table. */
        HISTORY10(new String[]{"user=user_id:categorical", "recent=movie_id:history:10:shareWith=item"}),
        /**
         * {@code HISTORY50} trained on profiles: each training row reads the user's latest 50 other training items
         * (historyMode profile), what a per-user recommendation reads.
         */
        PROFILE50("profile", new String[]{"user=user_id:categorical", "recent=movie_id:history:50:shareWith=item"}),
        /** {@code PROFILE50} without the user id. */
        PROFILE50_WITHOUT_ID("profile", new String[]{"recent=movie_id:history:50:shareWith=item"}),
        /** {@code PROFILE50} with the latest 200 items: the whole training profile of most ML-100k users. */
        PROFILE200("profile", new String[]{"user=user_id:categorical", "recent=movie_id:history:200:shareWith=item"});

        /** The query features; null: the Estimator's defaults (the tutorial's). */
        private final String[] query;
        /** Whether the towers read ML-100k's side columns (demographics and genres). */
        private final boolean side;
        /** The Estimator's historyMode for a history feature. */
        private final String historyMode;

        Features(boolean side, String... tutorialInputs) {
            // Built here, not from constants of Variant: an enum constant must not wait on its outer class's init.
            this.side = side;
            this.historyMode = "sequential";
            this.query = !side ? null : java.util.stream.Stream.concat(java.util.Arrays.stream(tutorialInputs),
                    java.util.stream.Stream.of("age:numeric", "gender:categorical", "occupation:categorical",
                            "zip_prefix:categorical")).toArray(String[]::new);
        }

        Features(String[] historyQuery) {
            this("sequential", historyQuery);
        }

        Features(String historyMode, String[] historyQuery) {
            this.side = false;
            this.historyMode = historyMode;
            this.query = historyQuery;
        }

        /** Whether the query tower reads the user's recent items. */
        public boolean history() {
            return query != null && !side;
        }
    }

    /** Whether the towers read the side columns (demographics and genres). */
    public boolean sideFeatures() {
        return features.side;
    }

    /** The tutorial's plain in-batch softmax for the full 300 epochs. */
    public static final Variant TUTORIAL = new Variant("tutorial", 1.0, false, false, 0, Features.TUTORIAL, false);

    /**
     * Every setting the experiment runs, in the order it runs them (cheap early-stopped ones before the long
     * fixed-length ones, so that an interrupted run has the comparison that matters most). Early stopping goes to
     * the options whose validation curves peak early (measured: logQ and mixed negatives at or before epoch 25 of
     * 300); the others rise to the end and run the tutorial's fixed 300 epochs. The side-feature variants read
     * ML-100k's {@code u.user} demographics and the genres.
     */
    public static final List<Variant> DEFAULTS = List.of(
            new Variant("logq", 1.0, false, true, 0, Features.TUTORIAL, true),
            new Variant("logq+hits", 1.0, true, true, 0, Features.TUTORIAL, true),
            new Variant("logq+side", 1.0, false, true, 0, Features.SIDE, true),
            new Variant("logq+hits+side", 1.0, true, true, 0, Features.SIDE, true),
            new Variant("logq+side+unseen", 1.0, false, true, 0, Features.SIDE, true, true, 0),
            new Variant("logq+side+iddrop", 1.0, false, true, 0, Features.SIDE, true, true, 0.1),
            new Variant("logq+iddrop", 1.0, false, true, 0, Features.TUTORIAL, true, true, 0.1),
            new Variant("logq+side-time", 1.0, false, true, 0, Features.SIDE_WITHOUT_TIME, true),
            new Variant("logq+side-time+unseen", 1.0, false, true, 0, Features.SIDE_WITHOUT_TIME, true, true, 0),
            new Variant("logq+demographics", 1.0, false, true, 0, Features.DEMOGRAPHICS, true),
            new Variant("mixed512", 1.0, false, false, 512, Features.TUTORIAL, true),
            TUTORIAL,
            new Variant("side", 1.0, false, false, 0, Features.SIDE, false),
            new Variant("hits", 1.0, true, false, 0, Features.TUTORIAL, false),
            new Variant("temperature0.5", 0.5, false, false, 0, Features.TUTORIAL, false),
            new Variant("logq+history50", 1.0, false, true, 0, Features.HISTORY50, true),
            new Variant("logq+history50-id", 1.0, false, true, 0, Features.HISTORY50_WITHOUT_ID, true),
            new Variant("logq+history50+separate", 1.0, false, true, 0, Features.HISTORY50_SEPARATE, true),
            new Variant("logq+history10", 1.0, false, true, 0, Features.HISTORY10, true),
            new Variant("logq+profile50", 1.0, false, true, 0, Features.PROFILE50, true),
            new Variant("logq+profile50-id", 1.0, false, true, 0, Features.PROFILE50_WITHOUT_ID, true),
            new Variant("profile50", 1.0, false, false, 0, Features.PROFILE50, true),
            new Variant("logq+profile200", 1.0, false, true, 0, Features.PROFILE200, true),
            new Variant("logq+profile50-id+t0.5", 0.5, false, true, 0, Features.PROFILE50_WITHOUT_ID, true),
            new Variant("logq+profile50-id+t0.2", 0.2, false, true, 0, Features.PROFILE50_WITHOUT_ID, true),
            new Variant("logq+profile50-id+mixed1024", 1.0, false, true, 1024, Features.PROFILE50_WITHOUT_ID, true),
            new Variant("logq+profile50-id+dim64", 1.0, false, true, 0, Features.PROFILE50_WITHOUT_ID, true, false, 0,
                    64, 0),
            new Variant("logq+profile50-id+lr0.3", 1.0, false, true, 0, Features.PROFILE50_WITHOUT_ID, true, false, 0,
                    0, 0.3));

    /** The named defaults, in their order; an unknown name is an error listing the known ones. */
    public static List<Variant> named(List<String> names) {
        return names.stream().map(n -> DEFAULTS.stream().filter(v -> v.name().equals(n)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("--variant " + n + ": unknown; known are "
                        + DEFAULTS.stream().map(Variant::name).toList()))).toList();
    }

    /** The Estimator with this variant's options set. */
    public TwoTowerRetrieval applyTo(TwoTowerRetrieval estimator, int patience) {
        if (sideFeatures()) {
            estimator.setQueryFeatures(features.query.clone()).setCandidateFeatures(SIDE_CANDIDATE);
        } else if (features.history()) {
            estimator.setQueryFeatures(features.query.clone()).setCandidateFeatures(ITEM_CANDIDATE)
                    .setHistoryMode(features.historyMode);
        }
        if (unseenUsers) {
            estimator.setPreprocessOn("train");
        }
        if (embeddingDim > 0) {
            estimator.setEmbeddingDim(embeddingDim);
        }
        if (learningRate > 0) {
            estimator.setLearningRate(learningRate);
        }
        return estimator.setIdDropout(idDropout).setTemperature(temperature).setRemoveAccidentalHits(removeAccidentalHits)
                .setLogQCorrection(logQCorrection).setMixedNegatives(mixedNegatives)
                .setEarlyStoppingPatience(earlyStopping ? patience : 0);
    }
}
