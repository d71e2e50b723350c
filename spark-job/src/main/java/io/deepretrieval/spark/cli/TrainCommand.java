package io.deepretrieval.spark.cli;

import io.deepretrieval.spark.ingest.InputPolicy;
import io.deepretrieval.spark.ingest.MovieLensReader;
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
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import io.deepretrieval.model.train.CurvePoint;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code train}: one setting of the Estimator on any interactions table, saved as a Spark ML model at a URI. */
@Command(name = "train", mixinStandardHelpOptions = true, modelTransformer = EstimatorOptions.class,
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

    @Option(names = "--items", description = "item table (any Hadoop URI, same --format) joined to the interactions on --item-col:"
            + " where candidate features such as titles or genres live (a column both tables have is read from this one)")
    String items;

    @Spec
    CommandSpec spec;

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

    /** One source of interactions, and only the options that go with it; checked before Spark starts. */
    private void checkSources() {
        OptionChecks.excludes(spec, "--movielens", "it reads a MovieLens folder instead of an interactions table and"
                + " joins the folder's own item (and user) files", "--ratings", "--items", "--format");
        if (ratings == null && movielens == null) {
            throw new IllegalArgumentException("train needs --ratings URI or --movielens DIR (a folder path or URI)");
        }
        Tables.checkFormat(format);
    }

    @Override
    public Integer call() throws Exception {
        // Every Estimator param given as an option, checked by its validator before any work.
        TwoTowerRetrieval estimator = EstimatorOptions.apply(spec, new TwoTowerRetrieval());
        EstimatorOptions.checkCombined(estimator);
        checkSources();
        String itemCol = estimator.getOrDefault(estimator.itemCol());
        try (SparkSession spark = SparkSessions.create(master, "deep-retrieval train")) {
            Dataset<Row> table;
            if (movielens != null) {
                var reader = new MovieLensReader(spark,
                        InputPolicy.FAIL_FAST);
                var data = reader.read(movielens);
                var side = reader.readSideFeatures(movielens);
                // The side features ride along as columns (genres; age, gender, occupation, zip_prefix where the
                // release has users): the towers read only the ones declared with --query/--candidate-feature.
                table = CountedJoin.join(data.ratings(), data.movies(), "movie_id", true, "--movielens movies").rows();
                table = CountedJoin.join(table, side.genres(), "movie_id", true, "--movielens genres").rows();
                if (side.users() != null) {
                    table = CountedJoin.join(table, side.users(), "user_id", false, "--movielens users").rows();
                }
            } else {
                table = Tables.read(spark, "--ratings", ratings, format);
                if (items != null) {
                    Dataset<Row> itemTable = Tables.read(spark, "--items", items, format);
                    if (!Arrays.asList(itemTable.columns()).contains(itemCol)) {
                        throw new IllegalArgumentException("--items " + items + ": no column '" + itemCol
                                + "' (--item-col) to join on; it has " + Arrays.toString(itemTable.columns()));
                    }
                    // An item attribute both tables carry (a product name kept with each purchase) comes from the
                    // item table: two columns of one name would make every later reference to it ambiguous.
                    List<String> interactionColumns = Arrays.asList(table.columns());
                    List<String> both = Arrays.stream(itemTable.columns())
                            .filter(c -> !c.equals(itemCol) && interactionColumns.contains(c)).toList();
                    if (!both.isEmpty()) {
                        LOG.info("--items {}: {} read from the item table, not from the interactions", items, both);
                        table = table.drop(both.toArray(String[]::new));
                    }
                    table = CountedJoin.join(table, itemTable, itemCol, true, "--items " + items).rows();
                }
            }
            TwoTowerRetrievalModel model = estimator.fit(table);
            if (model.earlyStoppingBestEpoch() > 0) {
                LOG.info("Early stopping chose epoch {}{}", model.earlyStoppingBestEpoch(),
                        estimator.getOrDefault(estimator.refitAfterStopping()).equals(Boolean.TRUE)
                                ? " (refitted on every training row for that many epochs)" : "");
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
            LOG.info("Saved {} model to {}", Arrays.toString(estimator.getOrDefault(estimator.layerSizes())), out);
        }
        return 0;
    }
}
