package io.deepretrieval.spark.ml;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.deepretrieval.spark.TestSpark;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.feature.SQLTransformer;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link SavedModels#load}: a model folder and a saved PipelineModel holding it load the same model; any other
 * folder is refused with a message naming it and what it holds.
 */
class SavedModelsTest {
    @TempDir
    static Path dir;
    static SparkSession spark;
    static TwoTowerRetrievalModel model;
    static Path modelDir;
    static Path pipelineDir;

    @BeforeAll
    static void fitAndSave() throws IOException {
        spark = TestSpark.session();
        Dataset<Row> interactions = TwoTowerRetrievalTest.writeParquetWith(spark, dir.resolve("interactions.parquet"), 800);
        model = TwoTowerRetrievalTest.estimator().setValidationFraction(0).setMaxEpochs(1).fit(interactions);
        modelDir = dir.resolve("model");
        model.write().save(modelDir.toString());
        // The model after another stage, as a feature pipeline would have it.
        pipelineDir = dir.resolve("pipeline");
        new PipelineModel("pipeline-with-one", new Transformer[]{select(), model}).write().save(pipelineDir.toString());
    }

    private static SQLTransformer select() {
        return new SQLTransformer().setStatement("SELECT * FROM __THIS__");
    }

    @Test
    void aModelFolderAndAPipelineFolderHoldingItLoadTheSameModel() throws IOException {
        for (Path folder : new Path[]{modelDir, pipelineDir}) {
            TwoTowerRetrievalModel loaded = SavedModels.load(spark, folder.toString());
            assertEquals(model.uid(), loaded.uid(), folder.toString());
            assertEquals("customer", loaded.getOrDefault(loaded.userCol()));
            assertArrayEquals(model.parameters().values(), loaded.parameters().values(), 0f);
            assertEquals(model.itemEmbeddings().collectAsList(), loaded.itemEmbeddings().collectAsList());
        }
    }

    private static String refused(Path folder) {
        return assertThrows(IllegalArgumentException.class, () -> SavedModels.load(spark, folder.toString())).getMessage();
    }

    @Test
    void aFolderOfAnotherKindIsRefusedNamingItAndWhatItHolds() throws IOException {
        Path none = dir.resolve("none");
        String missing = refused(none);
        assertTrue(missing.contains(none + " does not exist"), missing);

        Path empty = Files.createDirectories(dir.resolve("empty"));
        String notSpark = refused(empty);
        assertTrue(notSpark.contains(empty + " is not a saved Spark ML model (it has no metadata/ folder)"), notSpark);
        assertTrue(notSpark.contains("PipelineModel"), "says what is expected: " + notSpark);

        Path bundle = Files.createDirectories(dir.resolve("sweep-bundle"));
        Files.writeString(bundle.resolve("query_tower.sdz"), "");
        String old = refused(bundle);
        assertTrue(old.contains("sweep bundle of an earlier build") && old.contains("train the model again"), old);

        Path other = dir.resolve("sql");
        select().save(other.toString());
        String otherClass = refused(other);
        assertTrue(otherClass.contains(other + " holds a saved org.apache.spark.ml.feature.SQLTransformer, not a"
                + " TwoTowerRetrievalModel"), otherClass);

        Path without = dir.resolve("pipeline-without");
        new PipelineModel("pipeline-without", new Transformer[]{select()}).write().save(without.toString());
        String noStage = refused(without);
        assertTrue(noStage.contains(without + " is a saved PipelineModel without a TwoTowerRetrievalModel stage"
                + " (its stages: [SQLTransformer])"), noStage);

        Path twice = dir.resolve("pipeline-twice");
        new PipelineModel("pipeline-twice", new Transformer[]{model, model.copy(ParamMap.empty())}).write().save(twice.toString());
        String two = refused(twice);
        assertTrue(two.contains(twice + " is a saved PipelineModel with 2 TwoTowerRetrievalModel stages")
                && two.contains("0_" + model.uid()) && two.contains("1_" + model.uid()), two);
    }

    @Test
    void aModelOfAnotherFormatIsRefusedNamingTheFolderAndTheFormat() throws IOException {
        Path copy = dir.resolve("format3");
        try (Stream<Path> files = Files.walk(modelDir)) {
            for (Path f : files.toList()) {
                Files.copy(f, copy.resolve(modelDir.relativize(f).toString()));
            }
        }
        Path settings = copy.resolve("data/model.json");
        ObjectNode s = (ObjectNode) new ObjectMapper().readTree(settings.toFile());
        s.put("formatVersion", 3);
        Files.writeString(settings, new ObjectMapper().writeValueAsString(s));
        Files.delete(copy.resolve("data/.model.json.crc")); // Hadoop's local checksum of the original
        String e = refused(copy);
        assertTrue(e.contains(copy + ": model format 3 is not supported (this build reads 2)"), e);
    }
}
