package io.deepretrieval.spark.experiment;

import io.deepretrieval.spark.ml.TwoTowerRetrieval;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VariantTest {
    private static String[] query(String name) {
        TwoTowerRetrieval e = Variant.named(List.of(name)).get(0).applyTo(new TwoTowerRetrieval(), 5);
        return e.getOrDefault(e.queryFeatures());
    }

    @Test
    void featureSetsDifferOnlyInWhatTheyLeaveOut() {
        String[] side = query("logq+side");
        assertTrue(List.of(side).contains("timestamp=timestamp:timestamp:1000"));
        assertArrayEquals(List.of(side).stream().filter(f -> !f.startsWith("timestamp")).toArray(),
                query("logq+side-time"));
        assertArrayEquals(List.of(side).stream().filter(f -> !f.startsWith("timestamp") && !f.startsWith("user"))
                .toArray(), query("logq+demographics"));
        // The tutorial's variants leave the Estimator's default features alone.
        TwoTowerRetrieval defaults = new TwoTowerRetrieval();
        assertArrayEquals(defaults.getOrDefault(defaults.queryFeatures()), query("logq"));
    }

    @Test
    void historyVariantsReadTheLatestItemsAndTheItemTableTheyShare() {
        TwoTowerRetrieval e = Variant.named(List.of("logq+history50")).get(0).applyTo(new TwoTowerRetrieval(), 5);
        assertArrayEquals(new String[]{"user=user_id:categorical", "recent=movie_id:history:50:shareWith=item"},
                e.getOrDefault(e.queryFeatures()));
        assertArrayEquals(Variant.ITEM_CANDIDATE, e.getOrDefault(e.candidateFeatures()));
        e.towerFeatures(); // parses: the shared table is a categorical candidate feature
        assertArrayEquals(new String[]{"recent=movie_id:history:50:shareWith=item"}, query("logq+history50-id"));
        assertFalse(Variant.named(List.of("logq+history10")).get(0).sideFeatures());
    }

    @Test
    void unseenUsersFitVocabulariesOnTrainingRowsOnly() {
        Variant v = Variant.named(List.of("logq+side-time+unseen")).get(0);
        assertTrue(v.unseenUsers() && v.sideFeatures() && v.logQCorrection() && v.earlyStopping());
        TwoTowerRetrieval e = v.applyTo(new TwoTowerRetrieval(), 5);
        assertEquals("train", e.getOrDefault(e.preprocessOn()));
        assertFalse(Variant.TUTORIAL.sideFeatures());
    }
}
