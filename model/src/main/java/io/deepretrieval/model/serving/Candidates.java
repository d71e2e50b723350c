package io.deepretrieval.model.serving;

import io.deepretrieval.model.retrieval.BruteForceTopK;
import io.deepretrieval.model.retrieval.TopK;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The catalogue a model recommends from: item ids, labels and candidate embeddings by row, and the rows of ids, so
 * that a {@link TopK} index over the embeddings (rows in this order) answers in movies.
 */
public final class Candidates {
    private final List<String> ids;
    private final List<String> labels;
    private final float[] embeddings;
    private final int dim;
    private final Map<String, Integer> rowOf;

    /** @param embeddings row-major [ids.size(), dim], not copied */
    public Candidates(List<String> ids, List<String> labels, float[] embeddings, int dim) {
        if (ids.size() != labels.size() || (long) ids.size() * dim != embeddings.length) {
            throw new IllegalArgumentException(ids.size() + " ids, " + labels.size() + " labels and "
                    + embeddings.length + " embedding values of width " + dim + " do not match");
        }
        this.ids = List.copyOf(ids);
        this.labels = List.copyOf(labels);
        this.embeddings = embeddings;
        this.dim = dim;
        this.rowOf = new HashMap<>(ids.size() * 2);
        for (int r = 0; r < ids.size(); r++) {
            if (rowOf.put(ids.get(r), r) != null) {
                throw new IllegalArgumentException("candidate id " + ids.get(r) + " appears twice");
            }
        }
    }

    public int size() {
        return ids.size();
    }

    public int dim() {
        return dim;
    }

    public String id(int row) {
        return ids.get(row);
    }

    public String label(int row) {
        return labels.get(row);
    }

    /** The row-major embedding matrix itself (not a copy: do not change it). */
    public float[] embeddings() {
        return embeddings;
    }

    /** The exact index over these candidates. */
    public BruteForceTopK exactIndex() {
        return new BruteForceTopK(embeddings, size(), dim);
    }

    /**
     * The {@code k} best movies for a query embedding by {@code index} (built over these embeddings), leaving out
     * {@code exclude} (ids the catalogue does not hold are ignored: they cannot be recommended anyway).
     */
    public List<Recommendation> recommend(float[] query, int k, Set<String> exclude, TopK index) {
        if (index.size() != size() || index.dim() != dim) {
            throw new IllegalArgumentException("index holds " + index.size() + " x " + index.dim()
                    + " candidates, the catalogue " + size() + " x " + dim);
        }
        int[] leaveOut = exclude.stream().map(rowOf::get).filter(Objects::nonNull).mapToInt(Integer::intValue).toArray();
        TopK.Hits hits = index.searchOne(query, k, leaveOut);
        List<Recommendation> out = new ArrayList<>(hits.rows().length);
        for (int i = 0; i < hits.rows().length; i++) {
            int r = hits.rows()[i];
            out.add(new Recommendation(ids.get(r), labels.get(r), hits.scores()[i]));
        }
        return out;
    }

    /**
     * A fabricated catalogue of {@code n} candidates for load tests at sizes no MovieLens set has: each is a real
     * candidate's embedding (taken in turn) plus Gaussian noise of {@code noise} times that dimension's standard
     * deviation over the real ones, so scores stay on the trained model's scale. Ids are {@code syn-<row>}; labels
     * name the real movie each was drawn around. Not real movies: for latency and recall figures only.
     */
    public Candidates synthetic(int n, double noise, long seed) {
        if (n < 1) {
            throw new IllegalArgumentException("synthetic candidates must be >= 1, got " + n);
        }
        double[] sd = new double[dim];
        double[] mean = new double[dim];
        int m = size();
        for (int r = 0; r < m; r++) {
            for (int d = 0; d < dim; d++) {
                mean[d] += embeddings[r * dim + d] / (double) m;
            }
        }
        for (int r = 0; r < m; r++) {
            for (int d = 0; d < dim; d++) {
                double x = embeddings[r * dim + d] - mean[d];
                sd[d] += x * x / m;
            }
        }
        SplittableRandom rng = new SplittableRandom(seed);
        float[] out = new float[Math.multiplyExact(n, dim)];
        List<String> newIds = new ArrayList<>(n);
        List<String> newTitles = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int base = i % m;
            for (int d = 0; d < dim; d++) {
                double g = Math.sqrt(-2 * Math.log(1 - rng.nextDouble())) * Math.cos(2 * Math.PI * rng.nextDouble());
                out[i * dim + d] = (float) (embeddings[base * dim + d] + noise * Math.sqrt(sd[d]) * g);
            }
            newIds.add("syn-" + i);
            newTitles.add("synthetic " + i + " (near " + labels.get(base) + ")");
        }
        return new Candidates(newIds, newTitles, out, dim);
    }
}
