package io.deepretrieval.spark.ml;

import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.util.DefaultParamsReader$;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Finds and loads the saved two-tower model in a folder at any Hadoop URI: either a {@link TwoTowerRetrievalModel}
 * folder ({@code model.write().save(path)}, {@code train --out}) or a saved {@link PipelineModel} folder with exactly
 * one such stage (the model is read from its stage folder, the other stages are not loaded). The format and its
 * compatibility promise are {@link TwoTowerRetrievalWriter}'s.
 */
public final class SavedModels {
    private static final String MODEL_CLASS = TwoTowerRetrievalModel.class.getName();
    private static final String PIPELINE_CLASS = PipelineModel.class.getName();
    private static final String EXPECTED = "expected a folder saved by TwoTowerRetrievalModel.write().save (e.g."
            + " 'train --out') or a saved PipelineModel folder with one TwoTowerRetrievalModel stage";

    private SavedModels() {
    }

    /**
     * The model saved at {@code path}, read with {@code spark}.
     *
     * @throws IllegalArgumentException naming {@code path} and what is there instead, when it does not exist, holds no
     *                                  Spark ML model, holds a model of another class, a PipelineModel with no
     *                                  two-tower stage or with several, or a model of another format
     * @throws IOException              when the folder cannot be read
     */
    public static TwoTowerRetrievalModel load(SparkSession spark, String path) throws IOException {
        Path root = new Path(path);
        FileSystem fs = root.getFileSystem(spark.sparkContext().hadoopConfiguration());
        if (!fs.exists(root)) {
            throw new IllegalArgumentException(path + " does not exist: " + EXPECTED);
        }
        if (!fs.exists(new Path(root, "metadata"))) {
            // The sweep's bundles of earlier builds had no Spark metadata; say so rather than only "not a model".
            boolean oldBundle = fs.exists(new Path(root, "query_tower.sdz"));
            throw new IllegalArgumentException(path + " is not a saved Spark ML model (it has no metadata/ folder)"
                    + (oldBundle ? "; it looks like a sweep bundle of an earlier build (query_tower.sdz), a format this"
                    + " build no longer reads: train the model again" : "") + "; " + EXPECTED);
        }
        String type = className(spark, path);
        if (type.equals(MODEL_CLASS)) {
            return read(spark, path);
        }
        if (!type.equals(PIPELINE_CLASS)) {
            throw new IllegalArgumentException(path + " holds a saved " + type + ", not a TwoTowerRetrievalModel; " + EXPECTED);
        }
        Path stagesDir = new Path(root, "stages");
        FileStatus[] listed = fs.exists(stagesDir) ? fs.listStatus(stagesDir) : new FileStatus[0];
        // Stage folders are named <index>_<uid>, the index zero-padded: by name is pipeline order.
        List<Path> stages = Arrays.stream(listed).filter(FileStatus::isDirectory).map(FileStatus::getPath)
                .sorted(Comparator.comparing(Path::getName)).toList();
        List<String> models = new ArrayList<>();
        List<String> types = new ArrayList<>();
        for (Path stage : stages) {
            String stageType = className(spark, stage.toString());
            types.add(stageType.substring(stageType.lastIndexOf('.') + 1));
            if (stageType.equals(MODEL_CLASS)) {
                models.add(stage.toString());
            }
        }
        if (models.size() == 1) {
            return read(spark, models.get(0));
        }
        if (models.isEmpty()) {
            throw new IllegalArgumentException(path + " is a saved PipelineModel without a TwoTowerRetrievalModel stage"
                    + " (its stages: " + types + "); " + EXPECTED);
        }
        throw new IllegalArgumentException(path + " is a saved PipelineModel with " + models.size()
                + " TwoTowerRetrievalModel stages; pass the folder of the one to use: " + models);
    }

    /** The class a Spark ML folder's metadata names. */
    private static String className(SparkSession spark, String path) {
        try {
            return DefaultParamsReader$.MODULE$.loadMetadata(path, spark.sparkContext(), "").className();
        } catch (Exception e) { // Scala throws Hadoop's checked exceptions undeclared
            throw new IllegalArgumentException(path + ": cannot read its Spark ML metadata (" + e.getMessage() + "); "
                    + EXPECTED, e);
        }
    }

    private static TwoTowerRetrievalModel read(SparkSession spark, String path) throws IOException {
        try {
            return (TwoTowerRetrievalModel) TwoTowerRetrievalModel.read().session(spark).load(path);
        } catch (UncheckedIOException e) {
            throw new IOException(e.getMessage(), e.getCause());
        }
    }
}
