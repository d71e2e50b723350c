package io.deepretrieval.model.train;

import io.deepretrieval.model.metrics.FactorizedTopK;
import io.deepretrieval.model.metrics.TopKAccuracy;
import io.deepretrieval.model.towers.ModelConfig;
import io.deepretrieval.model.towers.TwoTowerModel;
import org.bytedeco.javacpp.Pointer;

import java.util.Locale;

/**
 * Native memory over repeated evaluations (a benchmark that prints figures, not a test): the process's physical
 * bytes (resident set) after each of N evaluations of held-out rows, with no explicit GC.
 * Args: evaluations (default 20), users, items, ratings.
 */
public final class EvaluationMemoryBench {
    private EvaluationMemoryBench() {
    }

    public static void main(String[] args) {
        int evaluations = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        int users = args.length > 1 ? Integer.parseInt(args[1]) : 2000;
        int items = args.length > 2 ? Integer.parseInt(args[2]) : 5000;
        int ratings = args.length > 3 ? Integer.parseInt(args[3]) : 100_000;
        SyntheticData data = new SyntheticData(users, items, ratings, 3);
        TwoTowerModel model = new TwoTowerModel(ModelConfig.tutorial(new int[]{64, 32}, 1), data.spec);
        HeldOutRows held = HeldOutRows.inMemory(data.test);
        FactorizedTopK metric = FactorizedTopK.tutorial();
        System.out.printf(Locale.ROOT, "evaluation,top100,physical_mb%n");
        for (int i = 1; i <= evaluations; i++) {
            TopKAccuracy acc = held.score(model, data.corpus, metric);
            System.out.printf(Locale.ROOT, "%d,%.4f,%.1f%n", i, acc.at(100),
                    Pointer.physicalBytes() / 1e6);
        }
    }
}
