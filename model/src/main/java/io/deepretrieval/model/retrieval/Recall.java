package io.deepretrieval.model.retrieval;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

/** Recall of an approximate index against the exact one: the mean share of each query's exact top k it finds. */
public final class Recall {
    private Recall() {
    }

    /** Mean over queries of |approx top {@code at} ∩ exact top {@code at}| / |exact top {@code at}|. */
    public static double at(int at, TopK.Hits[] exact, TopK.Hits[] approx) {
        if (exact.length != approx.length || exact.length == 0) {
            throw new IllegalArgumentException(exact.length + " exact and " + approx.length + " approximate answers");
        }
        double sum = 0;
        for (int i = 0; i < exact.length; i++) {
            Set<Integer> truth = new HashSet<>();
            for (int j = 0; j < Math.min(at, exact[i].rows().length); j++) {
                truth.add(exact[i].rows()[j]);
            }
            long found = Arrays.stream(approx[i].rows()).limit(at).filter(truth::contains).count();
            sum += truth.isEmpty() ? 1 : (double) found / truth.size();
        }
        return sum / exact.length;
    }
}
