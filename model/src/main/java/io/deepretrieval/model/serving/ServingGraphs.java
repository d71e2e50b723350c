package io.deepretrieval.model.serving;

import io.deepretrieval.model.features.FeatureColumns;
import io.deepretrieval.model.features.FittedFeature;
import io.deepretrieval.model.towers.CandidateTower;
import io.deepretrieval.model.towers.DenseStack;
import io.deepretrieval.model.towers.Parameter;
import io.deepretrieval.model.towers.QueryTower;
import io.deepretrieval.model.towers.TowerInputs;
import io.deepretrieval.model.towers.TwoTowerModel;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;


/**
 * Self-contained inference graphs of the trained towers, for saving in SameDiff's own format: embedding tables
 * become graph variables looked up with {@code gather} (its forward pass is fine; only training needed the
 * workaround), followed by the same dense stacks. Inputs per feature: {@code <name>_index} (categorical),
 * {@code <name>_bucket} and {@code <name>_normalized} (timestamp), {@code <name>_normalized} (numeric),
 * {@code <name>_token_ids} [n, width] and {@code <name>_token_weights} [n, width, 1] (text).
 */
public final class ServingGraphs {
    public static final String QUERY_EMBEDDING = QueryTower.OUTPUT;
    public static final String CANDIDATE_EMBEDDING = CandidateTower.OUTPUT;

    private ServingGraphs() {
    }

    public static SameDiff queryTower(TwoTowerModel model) {
        return tower(model, QueryTower.PREFIX, model.spec().query(), QUERY_EMBEDDING);
    }

    public static SameDiff candidateTower(TwoTowerModel model) {
        return tower(model, CandidateTower.PREFIX, model.spec().candidate(), CANDIDATE_EMBEDDING);
    }

    private static SameDiff tower(TwoTowerModel model, String prefix, List<FittedFeature> features, String output) {
        SameDiff sd = SameDiff.create();
        int d = model.config().embeddingDim();
        List<SDVariable> parts = new ArrayList<>();
        for (FittedFeature f : features) {
            if (f.embedded()) {
                SDVariable table = sd.var(f.tableName(), array(model, f.tableName()));
                switch (f.kind()) {
                    case TEXT -> {
                        int w = f.width();
                        SDVariable ids = sd.placeHolder(f.name() + "_token_ids", DataType.INT32, -1, w);
                        SDVariable weights = sd.placeHolder(f.name() + "_token_weights", DataType.FLOAT, -1, w, 1);
                        SDVariable rows = sd.gather(table, ids.reshape(-1), 0)
                                .reshape(sd.constant(Nd4j.createFromArray(-1, w, d)));
                        parts.add(rows.mul(weights).sum(1));
                    }
                    case TIMESTAMP -> parts.add(sd.gather(table, sd.placeHolder(f.name() + "_bucket", DataType.INT32, -1), 0));
                    default -> parts.add(sd.gather(table, sd.placeHolder(f.name() + "_index", DataType.INT32, -1), 0));
                }
            }
            if (f.valued()) {
                parts.add(sd.placeHolder(TowerInputs.valueInput(f), DataType.FLOAT, -1, 1));
            }
        }
        SDVariable input = parts.size() == 1 ? parts.get(0) : sd.concat(1, parts.toArray(SDVariable[]::new));
        SDVariable out = DenseStack.build(sd, prefix, input, model.config().layerSizes(), name -> array(model, name));
        sd.identity(output, out);
        return sd;
    }

    /** The placeholder values of a serving tower for encoded rows. */
    public static Map<String, INDArray> inputs(List<FittedFeature> features, FeatureColumns cols) {
        Map<String, INDArray> in = new HashMap<>();
        int n = cols.rows();
        for (int f = 0; f < features.size(); f++) {
            FittedFeature feature = features.get(f);
            switch (feature.kind()) {
                case TEXT -> {
                    int w = cols.width(f);
                    in.put(feature.name() + "_token_ids", Nd4j.createFromArray(cols.ids(f)).reshape(n, w));
                    in.put(feature.name() + "_token_weights", Nd4j.create(cols.weights(f), new long[]{n, w, 1}, 'c'));
                }
                case TIMESTAMP -> in.put(feature.name() + "_bucket", Nd4j.createFromArray(cols.ids(f)));
                case CATEGORICAL -> in.put(feature.name() + "_index", Nd4j.createFromArray(cols.ids(f)));
                case NUMERIC -> {
                }
            }
            if (feature.valued()) {
                in.put(TowerInputs.valueInput(feature), Nd4j.create(cols.values(f), new long[]{n, 1}, 'c'));
            }
        }
        return in;
    }

    /** A copy of a trained parameter as an array (the graph must not share the trainer's live values). */
    private static INDArray array(TwoTowerModel model, String name) {
        Parameter p = model.parameters().get(name);
        return Nd4j.create(p.values().clone(), p.shape(), 'c');
    }
}
