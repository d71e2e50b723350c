package io.deepretrieval.model.features;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FeatureSpecTest {
    static FeatureSpec sample() {
        return new FeatureSpec(FeatureSpec.FORMAT_VERSION, List.of("1", "10", "2"),
                List.of("Star Wars (1977)", "Toy Story (1995)"),
                List.of("", "[UNK]", "1977", "star", "wars", "toy", "story", "1995"),
                TimestampBuckets.linspace(100, 200, 5), 150, 400, 3);
    }

    @Test
    void lookupsReserveIndexZeroForOutOfVocabulary() {
        FeatureSpec spec = sample();
        assertEquals(1, spec.userIndex("1"));
        assertEquals(3, spec.userIndex("2"));
        assertEquals(0, spec.userIndex("999"));
        assertEquals(2, spec.titleIndex("Toy Story (1995)"));
        assertEquals(0, spec.titleIndex("Unknown (2024)"));
        assertEquals(4, spec.userTableSize());
        assertEquals(3, spec.titleTableSize());
        assertEquals(6, spec.bucketTableSize());
    }

    @Test
    void titleTokensUseTheVocabularyTruncateAndMapUnknownToOne() {
        FeatureSpec spec = sample();
        assertArrayEquals(new int[]{3, 4, 2}, spec.titleTokenIds("Star Wars (1977)"));
        assertArrayEquals(new int[]{3, 1, 1}, spec.titleTokenIds("Star Trek: Generations (1994)"));
    }

    @Test
    void timestampFeatures() {
        FeatureSpec spec = sample();
        assertEquals(1, spec.timestampBucket(100));
        assertEquals(5, spec.timestampBucket(200));
        assertEquals(-2.5f, spec.normalizedTimestamp(100), 1e-6);
        assertEquals(2.5f, spec.normalizedTimestamp(200), 1e-6);
    }

    @Test
    void jsonRoundTripIsExactAndVersioned(@TempDir Path dir) throws IOException {
        FeatureSpec spec = sample();
        Path file = dir.resolve("feature-spec.json");
        spec.write(file);
        String json = Files.readString(file);
        assertTrue(json.contains("\"formatVersion\" : 1"), json);
        FeatureSpec back = FeatureSpec.read(file);
        assertEquals(spec.toJson(), back.toJson());
        assertArrayEquals(spec.titleTokenIds("Star Wars (1977)"), back.titleTokenIds("Star Wars (1977)"));
    }

    @Test
    void rejectsOtherVersionsAndBrokenVocabularies(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("spec.json");
        Files.writeString(file, sample().toJson().replace("\"formatVersion\" : 1", "\"formatVersion\" : 7"));
        IOException e = assertThrows(IOException.class, () -> FeatureSpec.read(file));
        assertTrue(e.getMessage().contains("formatVersion 7"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new FeatureSpec(1, List.of(), List.of(),
                List.of("star"), new double[]{1, 2}, 0, 1, 1));
    }
}
