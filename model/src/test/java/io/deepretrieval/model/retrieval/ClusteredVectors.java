package io.deepretrieval.model.retrieval;

import java.util.SplittableRandom;

/** Synthetic embeddings in clusters of varied norm, as trained towers produce (not normalised). */
final class ClusteredVectors {
    private ClusteredVectors() {
    }

    /**
     * Row-major [n, dim] points around {@code clusters} standard-normal centres (seeded), each point its centre plus
     * {@code spread} times standard-normal noise, scaled by 0.5 to 1.5 so that norms vary. (Few, wide clusters in 32
     * dimensions are close to uniform noise, where every top 100 is a near-tie and no graph index does well: 50
     * clusters of spread 0.35 gave HNSW a recall@100 of 0.78 at ef 800.)
     */
    static float[] make(int n, int dim, int clusters, double spread, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] centres = new float[clusters * dim];
        for (int i = 0; i < centres.length; i++) {
            centres[i] = (float) gaussian(rng);
        }
        SplittableRandom points = new SplittableRandom(seed * 31 + 7);
        float[] out = new float[n * dim];
        for (int r = 0; r < n; r++) {
            int c = points.nextInt(clusters);
            double scale = 0.5 + points.nextDouble();
            for (int d = 0; d < dim; d++) {
                out[r * dim + d] = (float) (scale * (centres[c * dim + d] + spread * gaussian(points)));
            }
        }
        return out;
    }

    private static double gaussian(SplittableRandom rng) {
        return Math.sqrt(-2 * Math.log(1 - rng.nextDouble())) * Math.cos(2 * Math.PI * rng.nextDouble());
    }
}
