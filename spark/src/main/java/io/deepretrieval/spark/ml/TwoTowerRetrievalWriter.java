package io.deepretrieval.spark.ml;

import io.deepretrieval.model.features.IdDropout;
import io.deepretrieval.model.task.RetrievalObjective;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.deepretrieval.model.features.CandidateCorpus;
import io.deepretrieval.model.features.FeatureColumns;
import io.deepretrieval.model.features.FeatureSpec;
import io.deepretrieval.model.features.FittedFeature;
import io.deepretrieval.model.towers.ModelConfig;
import io.deepretrieval.model.towers.TwoTowerModel;
import io.deepretrieval.model.train.ModelState;
import io.deepretrieval.model.train.ParameterLayout;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsReader$;
import org.apache.spark.ml.util.DefaultParamsWriter$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import scala.Option;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Saves a {@link TwoTowerRetrievalModel} to any Hadoop path, as Spark ML's own models do; this is the project's
 * one saved-model format, read by {@link TwoTowerRetrievalModel#load}, {@code PipelineModel.load} (as a stage) and
 * the CLI's {@code serve}, {@code recommend}, {@code recommend-all} and benches ({@link SavedModels#load}).
 * Nothing is Java-serialized, and every file is written by the driver through the path's Hadoop filesystem, so a
 * model saved in client mode to a folder only the driver sees is complete. The folder:
 * <pre>
 * metadata/               Spark ML's params JSON (class, uid, params)
 * data/feature-spec.json  the fitted features (FeatureSpec, its own formatVersion)
 * data/model.json         formatVersion, the model settings, the id column types, and each parameter's name and shape
 * data/candidates/        Parquet: every candidate record (item id, label, encoded candidate features)
 * data/parameters/        Parquet: (name, chunk, values) rows, serving state only (no Adagrad accumulators)
 * data/item-embeddings/   Parquet: (item id, embedding) of every candidate
 * data/user-histories/    Parquet: (user, history) each training user's latest items, when the query tower reads
 *                         a history built from the interactions (absent otherwise)
 * </pre>
 *
 * <p>Compatibility: this build writes format {@value #FORMAT} and reads format {@value #FORMAT} only. A folder of
 * another format (format 1, an older build's unnamed parameters, or a newer one) is refused on load with a message
 * naming the path and its format, before anything else is read; the remedy is to fit and save the model again with
 * this build. Within format {@value #FORMAT} the parameters are checked by name and shape against the model the
 * saved settings build; settings added later are optional keys of {@code model.json} that default to the earlier
 * behaviour (as {@code idDropout}), and any change to what a saved model computes or to this layout gets a new
 * format number. The {@code metadata/} folder follows Spark's own rules for ML params. The sweep's JSON bundles
 * of earlier builds ({@code query_tower.sdz}, {@code candidates.json}) and the {@code towers/} folder earlier
 * format-2 models carried are not read (such a model still loads: the folder is ignored).
 */
final class TwoTowerRetrievalWriter extends MLWriter {
    static final String METADATA = "metadata/part-00000";
    static final String SPEC = "data/feature-spec.json";
    static final String SETTINGS = "data/model.json";
    static final String CORPUS = "data/candidates";
    static final String PARAMETERS = "data/parameters";
    static final String ITEM_EMBEDDINGS = "data/item-embeddings";
    static final String USER_HISTORIES = "data/user-histories";
    /**
     * The candidates' column of each item's display label (its title, or its id when the model has no title
     * column); format 2 fixed the name, so it stays.
     */
    static final String LABEL = "title";
    /** Floats per Parquet row of the parameter vector (keeps rows small for any model size). */
    static final int CHUNK = 1 << 20;
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Format 2: parameters by name, their layout in model.json, no optimizer state (format 1: flat, unnamed). */
    static final int FORMAT = 2;
    /** A parameter's values in chunks of at most {@link #CHUNK}, numbered from 0 within each parameter. */
    private static final StructType PARAMETER_ROWS = new StructType()
            .add("name", DataTypes.StringType, false)
            .add("chunk", DataTypes.IntegerType, false)
            .add("values", DataTypes.createArrayType(DataTypes.FloatType, false), false);
    private static final StructType CANDIDATE_ROWS = new StructType()
            .add("record", DataTypes.IntegerType, false)
            .add("item", DataTypes.StringType, false)
            .add(LABEL, DataTypes.StringType, false);

    private final TwoTowerRetrievalModel model;

    TwoTowerRetrievalWriter(TwoTowerRetrievalModel model) {
        this.model = model;
    }

    @Override
    public void saveImpl(String path) {
        SparkSession spark = sparkSession();
        // Every file is written by the driver through the path's filesystem (DefaultParamsWriter.saveMetadata and
        // DataFrame writes would run on the executors; see DriverParquet), in the layout Spark ML reads back.
        String metadata = DefaultParamsWriter$.MODULE$.getMetadataToSave(model, spark.sparkContext(), Option.empty(),
                Option.empty());
        try {
            Configuration conf = spark.sparkContext().hadoopConfiguration();
            FileSystem fs = new Path(path).getFileSystem(conf);
            writeText(fs, new Path(path, METADATA), metadata);
            writeText(fs, new Path(path, SPEC), model.spec().toJson());
            ModelConfig c = model.config();
            ObjectNode settings = JSON.createObjectNode()
                    .put("formatVersion", FORMAT)
                    .put("embeddingDim", c.embeddingDim())
                    .put("learningRate", c.learningRate())
                    .put("initialAccumulator", c.initialAccumulator())
                    .put("epsilon", c.epsilon())
                    .put("initSeed", c.initSeed())
                    .put("userType", model.userType().json())
                    .put("itemType", model.itemType().json());
            settings.set("layerSizes", JSON.valueToTree(c.layerSizes()));
            settings.set("objective", JSON.valueToTree(c.objective()));
            if (c.idDropout().active()) {
                settings.set("idDropout", JSON.valueToTree(c.idDropout()));
            }
            if (model.skippedRows() != null) {
                settings.set("skippedRows", JSON.valueToTree(model.skippedRows()));
            }
            // Names and shapes of the parameters rows below, checked against the model's on load.
            settings.set("parameters", model.parameters().layout().toJson());
            writeText(fs, new Path(path, SETTINGS), JSON.writeValueAsString(settings));

            writeCorpus(conf, model.spec(), model.corpus(), new Path(path, CORPUS).toString());

            DriverParquet.write(conf, new Path(path, PARAMETERS), PARAMETER_ROWS, parameterRows(model.parameters()));
            DriverParquet.write(conf, new Path(path, ITEM_EMBEDDINGS), model.itemEmbeddingSchema(), model.itemEmbeddingRows());
            if (model.userHistories() != null) {
                // Streamed a partition at a time: one row per training user, which may be many.
                DriverParquet.write(conf, new Path(path, USER_HISTORIES), model.userHistories().schema(),
                        () -> model.userHistories().toLocalIterator());
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot save the model to " + path, e);
        }
    }

    /**
     * Each parameter's values as rows of (name, chunk, values); a parameter with no values still gets its row. The
     * accumulators are not saved: a fitted model serves, and training resumes from checkpoints, which keep them.
     */
    private static List<Row> parameterRows(ModelState state) {
        List<Row> rows = new ArrayList<>();
        ParameterLayout layout = state.layout();
        for (int p = 0; p < layout.entries().size(); p++) {
            int start = layout.offset(p);
            int end = start + layout.entries().get(p).size();
            int chunk = 0;
            int from = start;
            do {
                int to = Math.min(end, from + CHUNK);
                rows.add(RowFactory.create(layout.entries().get(p).name(), chunk++,
                        Arrays.copyOfRange(state.values(), from, to)));
                from = to;
            } while (from < end);
        }
        return rows;
    }

    /**
     * The values of {@link #parameterRows} placed by {@code layout}: every parameter's chunks numbered 0.. without a
     * gap, exactly its size in all, and no row of a parameter the layout lacks.
     */
    private static float[] parameterValues(List<Row> rows, ParameterLayout layout, String source) throws IOException {
        List<List<Row>> byParameter = new ArrayList<>();
        for (int p = 0; p < layout.entries().size(); p++) {
            byParameter.add(new ArrayList<>());
        }
        for (Row r : rows) {
            String name = r.getString(r.fieldIndex("name"));
            int p = layout.indexOf(name);
            if (p < 0) {
                throw new IOException(source + " holds values of parameter '" + name + "', which " + SETTINGS + " does not list");
            }
            byParameter.get(p).add(r);
        }
        float[] values = new float[layout.size()];
        for (int p = 0; p < byParameter.size(); p++) {
            ParameterLayout.Entry e = layout.entries().get(p);
            List<Row> chunks = byParameter.get(p);
            chunks.sort(Comparator.comparingInt(r -> r.getInt(r.fieldIndex("chunk"))));
            int at = layout.offset(p);
            int end = at + e.size();
            for (int c = 0; c < chunks.size(); c++) {
                Row r = chunks.get(c);
                if (r.getInt(r.fieldIndex("chunk")) != c) {
                    throw new IOException(source + ": parameter '" + e.name() + "' lacks chunk " + c + " or has it twice");
                }
                List<Object> v = r.getList(r.fieldIndex("values"));
                if (v.size() > end - at) {
                    throw new IOException(source + ": parameter '" + e.name() + "' holds more than the "
                            + e.size() + " values of its shape " + Arrays.toString(e.shape()));
                }
                for (Object f : v) {
                    values[at++] = (Float) f;
                }
            }
            if (at != end) {
                throw new IOException(source + ": parameter '" + e.name() + "' holds " + (e.size() - (end - at))
                        + " values, its shape " + Arrays.toString(e.shape()) + " has " + e.size());
            }
        }
        return values;
    }

    /**
     * The candidate records as Parquet: record, item id, label, and each candidate feature's encoded columns
     * ({@code f<i>_ids}, {@code f<i>_weights} for text, {@code f<i>_value}), so a load needs no item table.
     */
    private static void writeCorpus(Configuration conf, FeatureSpec spec, CandidateCorpus corpus, String to)
            throws IOException {
        StructType schema = CANDIDATE_ROWS;
        List<FittedFeature> features = spec.candidate();
        for (int f = 0; f < features.size(); f++) {
            if (features.get(f).embedded()) {
                schema = schema.add("f" + f + "_ids", DataTypes.createArrayType(DataTypes.IntegerType, false), false);
            }
            if (corpus.features().weights(f) != null) {
                schema = schema.add("f" + f + "_weights", DataTypes.createArrayType(DataTypes.FloatType, false), false);
            }
            if (features.get(f).valued()) {
                schema = schema.add("f" + f + "_value", DataTypes.FloatType, false);
            }
        }
        FeatureColumns cols = corpus.features();
        List<Row> records = new ArrayList<>(corpus.size());
        for (int r = 0; r < corpus.size(); r++) {
            List<Object> v = new ArrayList<>(List.of(r, corpus.itemId(r), corpus.label(r)));
            for (int f = 0; f < features.size(); f++) {
                int w = cols.width(f);
                if (cols.ids(f) != null) {
                    v.add(Arrays.copyOfRange(cols.ids(f), r * w, (r + 1) * w));
                }
                if (cols.weights(f) != null) {
                    v.add(Arrays.copyOfRange(cols.weights(f), r * w, (r + 1) * w));
                }
                if (cols.values(f) != null) {
                    v.add(cols.values(f)[r]);
                }
            }
            records.add(RowFactory.create(v.toArray()));
        }
        DriverParquet.write(conf, new Path(to), schema, records);
    }

    /** The records written by {@link #writeCorpus}, in record order. */
    private static CandidateCorpus readCorpus(SparkSession spark, FeatureSpec spec, String from) {
        List<Row> rows = spark.read().parquet(from).orderBy("record").collectAsList();
        List<FittedFeature> features = spec.candidate();
        int n = rows.size();
        int k = features.size();
        int[] widths = new int[k];
        int[][] ids = new int[k][];
        float[][] weights = new float[k][];
        float[][] values = new float[k][];
        List<String> items = new ArrayList<>(n);
        List<String> labels = new ArrayList<>(n);
        for (int f = 0; f < k; f++) {
            FittedFeature feature = features.get(f);
            widths[f] = feature.width();
            ids[f] = feature.embedded() ? new int[n * widths[f]] : null;
            weights[f] = feature.pooled() ? new float[n * widths[f]] : null;
            values[f] = feature.valued() ? new float[n] : null;
        }
        for (int r = 0; r < n; r++) {
            Row row = rows.get(r);
            items.add(row.getString(row.fieldIndex("item")));
            labels.add(row.getString(row.fieldIndex(LABEL)));
            for (int f = 0; f < k; f++) {
                int w = widths[f];
                if (ids[f] != null) {
                    List<Integer> v = row.getList(row.fieldIndex("f" + f + "_ids"));
                    for (int t = 0; t < w; t++) {
                        ids[f][r * w + t] = v.get(t);
                    }
                }
                if (weights[f] != null) {
                    List<Float> v = row.getList(row.fieldIndex("f" + f + "_weights"));
                    for (int t = 0; t < w; t++) {
                        weights[f][r * w + t] = v.get(t);
                    }
                }
                if (values[f] != null) {
                    values[f][r] = row.getFloat(row.fieldIndex("f" + f + "_value"));
                }
            }
        }
        return new CandidateCorpus(items, labels, new FeatureColumns(n, widths, ids, weights, values));
    }

    private static void writeText(FileSystem fs, Path file, String text) throws IOException {
        try (FSDataOutputStream out = fs.create(file, false)) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
        }
    }

    private static String readText(FileSystem fs, Path file) throws IOException {
        try (InputStream in = fs.open(file)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /**
     * Refuses a model of another format than {@value #FORMAT}: an input error (IllegalArgumentException, as a bad
     * argument would be), naming the folder and the format found, before anything else is read.
     */
    static void checkFormat(String path, JsonNode settings) {
        JsonNode version = settings.get("formatVersion");
        int format = version == null || !version.canConvertToInt() ? -1 : version.asInt();
        if (format != FORMAT) {
            throw new IllegalArgumentException(path + ": model format " + (version == null ? "(none given)" : version)
                    + " is not supported (this build reads " + FORMAT + "): " + (format == 1 ? "format 1 stored the"
                    + " parameters without names or shapes; " : "") + "fit and save the model again with this build");
        }
    }

    /** Reads what {@link TwoTowerRetrievalWriter} wrote. */
    static final class Reader extends MLReader<TwoTowerRetrievalModel> {
        @Override
        public TwoTowerRetrievalModel load(String path) {
            SparkSession spark = sparkSession();
            DefaultParamsReader.Metadata metadata = DefaultParamsReader$.MODULE$.loadMetadata(path, spark.sparkContext(),
                    TwoTowerRetrievalModel.class.getName());
            try {
                FileSystem fs = new Path(path).getFileSystem(spark.sparkContext().hadoopConfiguration());
                JsonNode s = JSON.readTree(readText(fs, new Path(path, SETTINGS)));
                checkFormat(path, s);
                FeatureSpec spec = FeatureSpec.fromJson(readText(fs, new Path(path, SPEC)));
                ModelConfig config = new ModelConfig(s.get("embeddingDim").asInt(),
                        JSON.treeToValue(s.get("layerSizes"), int[].class), s.get("learningRate").asDouble(),
                        s.get("initialAccumulator").asDouble(), s.get("epsilon").asDouble(), s.get("initSeed").asLong());
                if (s.has("objective")) {
                    config = config.withObjective(JSON.treeToValue(s.get("objective"), RetrievalObjective.class));
                }
                if (s.has("idDropout")) { // written only when on: models saved before it load as before
                    config = config.withIdDropout(JSON.treeToValue(s.get("idDropout"), IdDropout.class));
                }
                CandidateCorpus corpus = readCorpus(spark, spec, new Path(path, CORPUS).toString());
                // The saved names and shapes must be those of the model these settings and this spec build.
                String settingsFile = new Path(path, SETTINGS).toString();
                ParameterLayout layout = ParameterLayout.fromJson(s.get("parameters"), settingsFile);
                layout.verify(ParameterLayout.of(new TwoTowerModel(config, spec)), settingsFile);
                String parametersDir = new Path(path, PARAMETERS).toString();
                float[] values = parameterValues(spark.read().parquet(parametersDir).collectAsList(), layout, parametersDir);
                ModelState parameters = new ModelState(layout, values, null);
                DataType userType = DataType.fromJson(s.get("userType").asText());
                DataType itemType = DataType.fromJson(s.get("itemType").asText());
                // The saved item embeddings, placed by item id into corpus order (no tower pass on load).
                java.util.Map<String, Integer> recordOf = new java.util.HashMap<>();
                for (int r = 0; r < corpus.size(); r++) {
                    recordOf.put(corpus.itemId(r), r);
                }
                int dim = config.outputDim();
                float[] items = new float[corpus.size() * dim];
                for (Row r : spark.read().parquet(new Path(path, ITEM_EMBEDDINGS).toString()).collectAsList()) {
                    int at = recordOf.get(String.valueOf(r.get(0))) * dim;
                    List<Object> v = r.getList(1);
                    for (int k = 0; k < dim; k++) {
                        items[at + k] = (Float) v.get(k);
                    }
                }
                // Columns come from the saved params, set just below.
                TwoTowerRetrievalModel model = new TwoTowerRetrievalModel(metadata.uid(),
                        new InteractionColumns("user", "item", "", ""), spec, corpus, config, parameters, items,
                        List.of(), userType, itemType);
                metadata.getAndSetParams(model, Option.empty());
                if (s.has("skippedRows")) {
                    model.setSkippedRows(JSON.treeToValue(s.get("skippedRows"), SkippedRows.class));
                }
                Path histories = new Path(path, USER_HISTORIES);
                if (fs.exists(histories)) {
                    model.setUserHistories(spark.read().parquet(histories.toString()));
                }
                return model;
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("cannot load a two-tower model from " + path + ": " + e.getMessage(), e);
            }
        }
    }
}
