package io.deepretrieval.spark.cli;

import io.deepretrieval.spark.SyntheticMovieLens;
import io.deepretrieval.spark.TestSpark;
import io.deepretrieval.spark.ml.SavedModels;
import io.deepretrieval.spark.ml.TwoTowerRetrievalModel;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.feature.SQLTransformer;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Saved models for the CLI tests: one trained by {@code train}, and the same one inside a saved PipelineModel. */
final class ModelFolders {
    private ModelFolders() {
    }

    /**
     * A model trained by {@code train --movielens} (in this JVM) on a synthetic MovieLens 100k folder with planted
     * groups ({@link SyntheticMovieLens}), saved in {@code out}.
     */
    static Path trained(Path data, Path out, int epochs) {
        CliRun.Result train = CliRun.run("train", "--movielens", data.toString(), "--layers", "32", "--epochs",
                Integer.toString(epochs), "--batch-size", "256", "--out", out.toString());
        assertEquals(0, train.exitCode(), train.err());
        return out;
    }

    /** The model saved in {@code model} as the last stage of a saved PipelineModel (after a pass-through stage). */
    static Path pipelineOf(Path model, Path out) throws IOException {
        TwoTowerRetrievalModel m = SavedModels.load(TestSpark.session(), model.toString());
        Transformer select = new SQLTransformer().setStatement("SELECT * FROM __THIS__");
        new PipelineModel("pipeline-" + m.uid(), new Transformer[]{select, m}).write().save(out.toString());
        return out;
    }
}
