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
    void unseenUsersFitVocabulariesOnTrainingRowsOnly() {
        Variant v = Variant.named(List.of("logq+side-time+unseen")).get(0);
        assertTrue(v.unseenUsers() && v.sideFeatures() && v.logQCorrection() && v.earlyStopping());
        TwoTowerRetrieval e = v.applyTo(new TwoTowerRetrieval(), 5);
        assertEquals("train", e.getOrDefault(e.preprocessOn()));
        assertFalse(Variant.TUTORIAL.sideFeatures());
    }
}
