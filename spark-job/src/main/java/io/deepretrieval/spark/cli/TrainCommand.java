package io.deepretrieval.spark.cli;

import io.deepretrieval.spark.SparkSessions;
import io.deepretrieval.spark.ml.TwoTowerRetrieval;
import io.deepretrieval.spark.ml.TwoTowerRetrievalModel;
import io.deepretrieval.spark.preprocess.CountedJoin;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import io.deepretrieval.model.train.CurvePoint;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code train}: one setting of the Estimator on any interactions table, saved as a Spark ML model at a URI. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Fit TwoTowerRetrieval on an interactions table (Parquet, CSV or JSON at any Hadoop URI) and save the model.")
final class TrainCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(TrainCommand.class);

    @Option(names = "--ratings", description = "interactions table (file or folder, any Hadoop URI)")
    String ratings;

    @Option(names = "--movielens", description = "instead of --ratings: a MovieLens folder (u.data + u.item, ratings.dat +"
            + " movies.dat, or ratings.csv + movies.csv; a local path or any Hadoop URI), read as the sweep reads it and"
            + " joined to user_id, movie_id, timestamp, title, genres (array) and, where the release has users, age,"
            + " gender, occupation, zip_prefix")
    String movielens;

    @Option(names = "--format", defaultValue = "parquet", description = "parquet, csv (with a header) or json (default: ${DEFAULT-VALUE})")
    String format;

    @Option(names = "--user-col", defaultValue = "user_id", description = "(default: ${DEFAULT-VALUE})")
    String userCol;

    @Option(names = "--item-col", defaultValue = "movie_id", description = "(default: ${DEFAULT-VALUE})")
    String itemCol;

    @Option(names = "--time-col", defaultValue = "timestamp", description = "seconds; empty for none (default: ${DEFAULT-VALUE})")
    String timeCol;

    @Option(names = "--title-col", defaultValue = "title", description = "item title; empty: the item id (default: ${DEFAULT-VALUE})")
    String titleCol;

    @Option(names = "--layers", defaultValue = "32", description = "layer sizes, comma-separated (default: ${DEFAULT-VALUE})")
    String layers;

    @Option(names = "--epochs", defaultValue = "300", description = "(default: ${DEFAULT-VALUE})")
    int epochs;

    @Option(names = "--batch-size", defaultValue = "2048", description = "(default: ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--workers", defaultValue = "0", description = "0: train in the driver JVM; N: parameter averaging (default: ${DEFAULT-VALUE})")
    int workers;

    @Option(names = "--eval-every", defaultValue = "5", description = "epochs between validation points (default: ${DEFAULT-VALUE})")
    int evalEvery;

    @Option(names = "--seed", defaultValue = "42", description = "(default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--validation-fraction", defaultValue = "0", description = "share of rows held out (--validation-split random or temporal) for a logged top-K curve and per-user ranking (default: ${DEFAULT-VALUE})")
    double validationFraction;

    @Option(names = "--items", description = "item table (any Hadoop URI, same --format) joined to the interactions on --item-col:"
            + " where candidate features such as titles or genres live")
    String items;

    @Option(names = "--query-feature", description = "a query-tower feature, [name=]column:kind[:size] with kind categorical,"
            + " text, numeric or timestamp (repeat; default: the tutorial's user id + time)")
    List<String> queryFeatures = new java.util.ArrayList<>();

    @Option(names = "--candidate-feature", description = "a candidate-tower feature, as --query-feature (repeat; default:"
            + " the tutorial's title + title tokens, or the item id without a title)")
    List<String> candidateFeatures = new java.util.ArrayList<>();

    @Option(names = "--validation-split", defaultValue = "random", description = "random, temporal (the latest"
            + " --validation-fraction by time) or lastN (each user's --validation-last-n latest) (default: ${DEFAULT-VALUE})")
    String validationSplit;

    @Option(names = "--validation-last-n", defaultValue = "1", description = "(default: ${DEFAULT-VALUE})")
    int validationLastN;

    @Option(names = "--preprocess-on", defaultValue = "all", description = "all (the tutorial) or train: the rows"
            + " vocabularies and statistics are fitted on (default: ${DEFAULT-VALUE})")
    String preprocessOn;

    @Option(names = "--checkpoint-dir", description = "local folder for checkpoints; a rerun with the same settings resumes")
    String checkpointDir;

    @Option(names = "--temperature", defaultValue = "1", description = "softmax temperature (default: ${DEFAULT-VALUE})")
    double temperature;

    @Option(names = "--remove-accidental-hits", description = "mask in-batch duplicates of each row's positive")
    boolean removeAccidentalHits;

    @Option(names = "--logq-correction", description = "sampling-bias correction of the in-batch negatives")
    boolean logQCorrection;

    @Option(names = "--mixed-negatives", defaultValue = "0", description = "uniform extra negatives per batch (default: ${DEFAULT-VALUE})")
    int mixedNegatives;

    @Option(names = "--id-dropout", defaultValue = "0", description = "share of training examples whose user id is"
            + " replaced by the unknown-user row, which users unseen in training get (with --preprocess-on train)"
            + " (default: ${DEFAULT-VALUE})")
    double idDropout;

    @Option(names = "--early-stopping-patience", defaultValue = "0", description = "evaluations (every --eval-every"
            + " epochs) without a better top-K on a stopping slice of the training rows before training stops; 0: off"
            + " (default: ${DEFAULT-VALUE})")
    int earlyStoppingPatience;

    @Option(names = "--early-stopping-fraction", defaultValue = "0.1", description = "share of the training rows held"
            + " out as the stopping slice, split like --validation-split (default: ${DEFAULT-VALUE})")
    double earlyStoppingFraction;

    @Option(names = "--early-stopping-k", defaultValue = "100", description = "the top-K early stopping watches: 1, 5,"
            + " 10, 50 or 100 (default: ${DEFAULT-VALUE})")
    int earlyStoppingK;

    @Option(names = "--no-refit", description = "keep the early-stopped model instead of refitting on every training"
            + " row for the best epoch count")
    boolean noRefit;

    @Option(names = "--master", defaultValue = "local[*]", description = "Spark master; spark-submit's wins (default: ${DEFAULT-VALUE})")
    String master;

    @Option(names = "--out", required = true, description = "where the model is saved (any Hadoop URI; must not exist)")
    String out;

    /** "64,32" as layer sizes; a non-number is named. */
    static int[] layerSizes(String setting) {
        String[] parts = setting.split(",");
        int[] sizes = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                sizes[i] = Integer.parseInt(parts[i].strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--layers " + setting + ": '" + parts[i].strip() + "' is not a layer size (a positive integer)");
            }
        }
        return sizes;
    }

    @Override
    public Integer call() throws Exception {
        int[] sizes = layerSizes(layers);
        try (SparkSession spark = SparkSessions.create(master, "deep-retrieval train")) {
            Dataset<Row> table;
            if (movielens != null) {
                var reader = new io.deepretrieval.spark.ingest.MovieLensReader(spark,
                        io.deepretrieval.spark.ingest.InputPolicy.FAIL_FAST);
                var data = reader.read(movielens);
                var side = reader.readSideFeatures(movielens);
                // The side features ride along as columns (genres; age, gender, occupation, zip_prefix where the
                // release has users): the towers read only the ones declared with --query/--candidate-feature.
                table = CountedJoin.join(data.ratings(), data.movies(), "movie_id", true, "--movielens movies").rows();
                table = CountedJoin.join(table, side.genres(), "movie_id", true, "--movielens genres").rows();
                if (side.users() != null) {
                    table = CountedJoin.join(table, side.users(), "user_id", false, "--movielens users").rows();
                }
            } else if (ratings != null) {
                table = Tables.read(spark, ratings, format);
                if (items != null) {
                    Dataset<Row> itemTable = Tables.read(spark, items, format);
                    if (!java.util.Arrays.asList(itemTable.columns()).contains(itemCol)) {
                        throw new IllegalArgumentException("--items " + items + ": no column '" + itemCol
                                + "' (--item-col) to join on; it has " + java.util.Arrays.toString(itemTable.columns()));
                    }
                    table = CountedJoin.join(table, itemTable, itemCol, true, "--items " + items).rows();
                }
            } else {
                throw new IllegalArgumentException("train needs --ratings URI or --movielens DIR (a folder path or URI)");
            }
            TwoTowerRetrievalModel model = new TwoTowerRetrieval().setUserCol(userCol).setItemCol(itemCol)
                    .setTimestampCol(timeCol).setTitleCol(titleCol).setLayerSizes(sizes).setMaxEpochs(epochs)
                    .setBatchSize(batchSize).setNumWorkers(workers).setSeed(seed)
                    .setValidationFraction(validationFraction).setEvalEvery(evalEvery)
                    .setQueryFeatures(queryFeatures.toArray(String[]::new))
                    .setCandidateFeatures(candidateFeatures.toArray(String[]::new))
                    .setValidationSplit(validationSplit).setValidationLastN(validationLastN).setPreprocessOn(preprocessOn)
                    .setCheckpointDir(checkpointDir == null ? "" : checkpointDir)
                    .setTemperature(temperature).setRemoveAccidentalHits(removeAccidentalHits)
                    .setLogQCorrection(logQCorrection).setMixedNegatives(mixedNegatives).setIdDropout(idDropout)
                    .setEarlyStoppingPatience(earlyStoppingPatience).setEarlyStoppingFraction(earlyStoppingFraction)
                    .setEarlyStoppingK(earlyStoppingK).setRefitAfterStopping(!noRefit).fit(table);
            if (model.earlyStoppingBestEpoch() > 0) {
                LOG.info("Early stopping chose epoch {}{}", model.earlyStoppingBestEpoch(),
                        noRefit ? "" : " (refitted on every training row for that many epochs)");
            }
            List<CurvePoint> curve = model.validationCurve();
            if (!curve.isEmpty()) {
                CurvePoint last = curve.get(curve.size() - 1);
                LOG.info("Validation after epoch {}: {}", last.epoch(), last.accuracy());
            }
            if (model.validationRanking() != null) {
                LOG.info("Validation per user: {}", model.validationRanking());
            }
            model.write().save(out);
            LOG.info("Saved {} model to {}", Arrays.toString(sizes), out);
        }
        return 0;
    }
}
