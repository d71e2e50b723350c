package io.deepretrieval.spark.train;

import io.deepretrieval.model.towers.EmbeddingTable;
import io.deepretrieval.model.towers.Parameter;
import io.deepretrieval.model.towers.TwoTowerModel;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * Where each parameter of a model sits in its flat {@link io.deepretrieval.model.train.ModelState}: the embedding
 * tables (averaged row by row) and the dense parameters (averaged whole), each in the model's parameter order.
 */
record StateLayout(int[] tableOffsets, int[] tableDims, int[] denseOffsets, int[] denseLengths, int size)
        implements Serializable {

    static StateLayout of(TwoTowerModel model) {
        List<int[]> tables = new ArrayList<>();
        List<int[]> dense = new ArrayList<>();
        int offset = 0;
        for (Parameter p : model.parameters().values()) {
            int len = p.values().length;
            if (p instanceof EmbeddingTable t) {
                tables.add(new int[]{offset, t.dim()});
            } else {
                dense.add(new int[]{offset, len});
            }
            offset += len;
        }
        return new StateLayout(tables.stream().mapToInt(a -> a[0]).toArray(), tables.stream().mapToInt(a -> a[1]).toArray(),
                dense.stream().mapToInt(a -> a[0]).toArray(), dense.stream().mapToInt(a -> a[1]).toArray(), offset);
    }

    int tables() {
        return tableOffsets.length;
    }

    /** Values in the dense parameters together. */
    int denseSize() {
        int n = 0;
        for (int len : denseLengths) {
            n += len;
        }
        return n;
    }
}
