package io.deepretrieval.model.serving;

import io.deepretrieval.model.towers.DenseStack;
import io.deepretrieval.model.towers.Parameter;
import io.deepretrieval.model.towers.TwoTowerModel;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;


/**
 * Self-contained inference graphs of the trained towers, for saving in SameDiff's own format: embedding tables
 * become graph variables looked up with {@code gather} (its forward pass is fine; only training needed the
 * workaround), followed by the same dense stacks.
 */
public final class ServingGraphs {
    public static final String USER_INDEX = "user_index";
    public static final String BUCKET_INDEX = "timestamp_bucket";
    public static final String NORMALIZED_TIMESTAMP = "normalized_timestamp";
    public static final String TITLE_INDEX = "title_index";
    public static final String TOKEN_IDS = "title_token_ids";
    public static final String TOKEN_WEIGHTS = "title_token_weights";
    public static final String QUERY_EMBEDDING = "query_embedding";
    public static final String CANDIDATE_EMBEDDING = "candidate_embedding";

    private ServingGraphs() {
    }

    public static SameDiff queryTower(TwoTowerModel model) {
        SameDiff sd = SameDiff.create();
        SDVariable user = sd.gather(sd.var(TwoTowerModel.USER_TABLE, array(model, TwoTowerModel.USER_TABLE)),
                sd.placeHolder(USER_INDEX, DataType.INT32, -1), 0);
        SDVariable bucket = sd.gather(sd.var(TwoTowerModel.BUCKET_TABLE, array(model, TwoTowerModel.BUCKET_TABLE)),
                sd.placeHolder(BUCKET_INDEX, DataType.INT32, -1), 0);
        SDVariable time = sd.placeHolder(NORMALIZED_TIMESTAMP, DataType.FLOAT, -1, 1);
        SDVariable out = dense(sd, model, "query", sd.concat(1, user, bucket, time));
        sd.identity(QUERY_EMBEDDING, out);
        return sd;
    }

    public static SameDiff candidateTower(TwoTowerModel model, int maxTokens) {
        SameDiff sd = SameDiff.create();
        int d = model.config().embeddingDim();
        SDVariable title = sd.gather(sd.var(TwoTowerModel.TITLE_TABLE, array(model, TwoTowerModel.TITLE_TABLE)),
                sd.placeHolder(TITLE_INDEX, DataType.INT32, -1), 0);
        SDVariable ids = sd.placeHolder(TOKEN_IDS, DataType.INT32, -1, maxTokens);
        SDVariable weights = sd.placeHolder(TOKEN_WEIGHTS, DataType.FLOAT, -1, maxTokens, 1);
        SDVariable tokenTable = sd.var(TwoTowerModel.TOKEN_TABLE, array(model, TwoTowerModel.TOKEN_TABLE));
        SDVariable tokens = sd.gather(tokenTable, ids.reshape(-1), 0).reshape(sd.constant(Nd4j.createFromArray(-1, maxTokens, d)));
        SDVariable mean = tokens.mul(weights).sum(1);
        SDVariable out = dense(sd, model, "candidate", sd.concat(1, title, mean));
        sd.identity(CANDIDATE_EMBEDDING, out);
        return sd;
    }

    private static SDVariable dense(SameDiff sd, TwoTowerModel model, String prefix, SDVariable input) {
        return DenseStack.build(sd, prefix, input, model.config().layerSizes(), name -> array(model, name));
    }

    /** A copy of a trained parameter as an array (the graph must not share the trainer's live values). */
    private static INDArray array(TwoTowerModel model, String name) {
        Parameter p = model.parameters().get(name);
        return Nd4j.create(p.values().clone(), p.shape(), 'c');
    }
}
