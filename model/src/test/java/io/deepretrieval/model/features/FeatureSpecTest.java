package io.deepretrieval.model.features;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FeatureSpecTest {
    static final TowerFeatures TUTORIAL = TowerFeatures.tutorial("user_id", "timestamp", "title", 5, 100);

    static FeatureSpec sample() {
        return new FeatureSpec("user_id", "movie_id",
                List.of(FittedFeature.categorical(TUTORIAL.query().get(0), List.of("1", "10", "2")),
                        FittedFeature.timestamp(TUTORIAL.query().get(1), TimestampBuckets.linspace(100, 200, 5), 150, 400)),
                List.of(FittedFeature.categorical(TUTORIAL.candidate().get(0), List.of("Star Wars (1977)", "Toy Story (1995)")),
                        FittedFeature.text(TUTORIAL.candidate().get(1),
                                List.of("", "[UNK]", "1977", "star", "wars", "toy", "story", "1995"), 3)));
    }

    private static FittedFeature user() {
        return sample().query().get(0);
    }

    @Test
    void lookupsReserveIndexZeroForOutOfVocabulary() {
        FeatureSpec spec = sample();
        assertEquals(1, user().index("1"));
        assertEquals(3, user().index("2"));
        assertEquals(0, user().index("999"));
        assertEquals(0, user().index(null));
        assertEquals(2, spec.candidate().get(0).index("Toy Story (1995)"));
        assertEquals(0, spec.candidate().get(0).index("Unknown (2024)"));
        assertEquals(4, user().tableRows());
        assertEquals(3, spec.candidate().get(0).tableRows());
        assertEquals(6, spec.query().get(1).tableRows());
        assertEquals(List.of("user_table", "timestamp_bucket_table", "title_table", "title_token_table"),
                java.util.stream.Stream.concat(spec.query().stream(), spec.candidate().stream()).map(FittedFeature::tableName).toList());
    }

    @Test
    void titleTokensUseTheVocabularyTruncateAndMapUnknownToOne() {
        FittedFeature tokens = sample().candidate().get(1);
        assertArrayEquals(new int[]{3, 4, 2}, tokens.tokenIds("Star Wars (1977)"));
        assertArrayEquals(new int[]{3, 1, 1}, tokens.tokenIds("Star Trek: Generations (1994)"));
        // A list of strings is taken as the tokens themselves (e.g. genres), not tokenised again.
        assertArrayEquals(new int[]{5, 1}, tokens.tokenIds(List.of("toy", "Toy")));
        assertArrayEquals(new int[0], tokens.tokenIds(null));
    }

    @Test
    void timestampFeatures() {
        FittedFeature time = sample().query().get(1);
        assertEquals(1, time.bucket(100));
        assertEquals(5, time.bucket(200));
        assertEquals(-2.5f, time.normalized(100), 1e-6);
        assertEquals(2.5f, time.normalized(200), 1e-6);
        assertEquals(200, sample().latestTimestamp());
    }

    @Test
    void encodesRowsByColumnWithMaskedMeanWeights() {
        FeatureSpec spec = sample();
        FeatureColumns q = spec.encodeQueries(2, (r, c) -> c == 0 ? List.of("2", "999").get(r) : (Object) (r == 0 ? 100L : 200L));
        assertArrayEquals(new int[]{3, 0}, q.ids(0));
        assertNull(q.values(0));
        assertArrayEquals(new int[]{1, 5}, q.ids(1));
        assertArrayEquals(new float[]{-2.5f, 2.5f}, q.values(1), 1e-6f);
        FeatureColumns c = spec.encodeCandidates(2, (r, col) -> List.of("Toy Story (1995)", "Star (1977)").get(r));
        assertArrayEquals(new int[]{2, 0}, c.ids(0));
        assertArrayEquals(new int[]{5, 6, 7, 3, 2, 0}, c.ids(1));
        assertArrayEquals(new float[]{1 / 3f, 1 / 3f, 1 / 3f, 0.5f, 0.5f, 0}, c.weights(1), 1e-7f);
        FeatureColumns second = c.gather(new int[]{1});
        assertArrayEquals(new int[]{3, 2, 0}, second.ids(1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> spec.encodeQueries(1, (r, col) -> col == 0 ? "1" : "yesterday"));
        assertTrue(e.getMessage().contains("column 'timestamp'"), e.getMessage());
    }

    @Test
    void jsonRoundTripIsExactAndVersioned(@TempDir Path dir) throws IOException {
        FeatureSpec spec = sample();
        Path file = dir.resolve("feature-spec.json");
        spec.write(file);
        String json = Files.readString(file);
        assertTrue(json.contains("\"formatVersion\" : 2"), json);
        FeatureSpec back = FeatureSpec.read(file);
        assertEquals(spec.toJson(), back.toJson());
        assertEquals(spec.features(), back.features());
        assertArrayEquals(spec.candidate().get(1).tokenIds("Star Wars (1977)"), back.candidate().get(1).tokenIds("Star Wars (1977)"));
    }

    @Test
    void rejectsOtherVersionsAndBrokenVocabularies(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("spec.json");
        Files.writeString(file, sample().toJson().replace("\"formatVersion\" : 2", "\"formatVersion\" : 7"));
        IOException e = assertThrows(IOException.class, () -> FeatureSpec.read(file));
        assertTrue(e.getMessage().contains("formatVersion 7"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> FittedFeature.text(TUTORIAL.candidate().get(1), List.of("star"), 1));
        assertThrows(IllegalArgumentException.class, () -> FittedFeature.timestamp(TUTORIAL.query().get(1), new double[]{2, 1}, 0, 1));
    }

    @Test
    void featureConfigsParseTheirWrittenForm() {
        assertEquals(FeatureConfig.categorical("user", "user_id"), FeatureConfig.parse("user=user_id:categorical"));
        assertEquals(FeatureConfig.timestamp("ts", "ts", 1000), FeatureConfig.parse("ts:timestamp"));
        assertEquals(FeatureConfig.text("genre", "genres", 50), FeatureConfig.parse(" genre = genres : TEXT:50 "));
        assertEquals(FeatureConfig.numeric("age", "age"), FeatureConfig.parse("age:numeric"));
        for (FeatureConfig f : List.of(FeatureConfig.parse("a=b:categorical:7"), FeatureConfig.parse("t:text"),
                FeatureConfig.parse("x:numeric"))) {
            assertEquals(f, FeatureConfig.parse(f.toString()));
        }
        IllegalArgumentException kind = assertThrows(IllegalArgumentException.class, () -> FeatureConfig.parse("age:float"));
        assertTrue(kind.getMessage().contains("unknown kind 'float'"), kind.getMessage());
        assertThrows(IllegalArgumentException.class, () -> FeatureConfig.parse("age"));
        assertThrows(IllegalArgumentException.class, () -> FeatureConfig.parse("ts:timestamp:1"));
        assertThrows(IllegalArgumentException.class, () -> FeatureConfig.parse("9lives=x:categorical"));
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
                () -> TowerFeatures.parse(List.of("title:categorical"), List.of("title:text")));
        assertTrue(twice.getMessage().contains("'title' is used twice"), twice.getMessage());
    }

    /** A spec with a history sharing the candidate item table. */
    private static FeatureSpec withHistory(String shareWith, List<String> historyVocabulary) {
        TowerFeatures declared = TowerFeatures.parse(List.of("user=user_id:categorical",
                "recent=item_id:history:3" + (shareWith == null ? "" : ":shareWith=" + shareWith)),
                List.of("item=item_id:categorical"));
        return new FeatureSpec("user_id", "item_id",
                List.of(FittedFeature.categorical(declared.query().get(0), List.of("u1", "u2")),
                        FittedFeature.history(declared.query().get(1), historyVocabulary)),
                List.of(FittedFeature.categorical(declared.candidate().get(0), List.of("a", "b", "c"))));
    }

    @Test
    void aHistoryReadsTheLastItemsOfItsColumnAsAMaskedMeanAndSurvivesJson() throws IOException {
        FeatureSpec spec = withHistory("item", List.of("a", "b", "c"));
        assertEquals(List.of("user_id", "recent"), spec.queryColumns(), "a derived history is read from a column named after it");
        assertEquals(List.of("recent"), spec.derivedHistories().stream().map(FittedFeature::name).toList());
        FittedFeature history = spec.query().get(1);
        assertEquals("item_table", history.tableName(), "the shared table's name");
        assertEquals(4, history.tableRows());
        // The last 3 of 5 items, oldest first; an unknown item maps to 0; null or empty: no items at all.
        FeatureColumns cols = spec.encodeQueries(3, (r, c) -> c == 0 ? "u1"
                : r == 0 ? List.of("a", "b", "zzz", "c", "a") : r == 1 ? List.of() : null);
        assertArrayEquals(new int[]{0, 3, 1, 0, 0, 0, 0, 0, 0}, cols.ids(1));
        float third = 1f / 3;
        assertArrayEquals(new float[]{third, third, third, 0, 0, 0, 0, 0, 0}, cols.weights(1));
        FeatureSpec back = FeatureSpec.fromJson(spec.toJson());
        assertEquals(spec.toJson(), back.toJson());
        assertEquals("item", back.query().get(1).shareWith());
        IllegalArgumentException notAList = assertThrows(IllegalArgumentException.class,
                () -> spec.encodeQueries(1, (r, c) -> c == 0 ? "u1" : "a,b"));
        assertTrue(notAList.getMessage().contains("a history is a list of item ids"), notAList.getMessage());
    }

    @Test
    void historiesParseAndASharedTableNeedsTheSameVocabularyOnTheItemColumn() {
        FeatureConfig h = FeatureConfig.parse("recent=item_id:history:20:shareWith=item");
        assertEquals(FeatureConfig.history("recent", "item_id", 20, "item"), h);
        assertEquals(h, FeatureConfig.parse(h.toString()));
        assertEquals(FeatureConfig.DEFAULT_HISTORY, FeatureConfig.parse("session:history").size());
        assertEquals("session", FeatureConfig.parse("session:history").inputColumn("item_id"), "a supplied array column");
        assertEquals("recent", h.inputColumn("item_id"));
        assertThrows(IllegalArgumentException.class, () -> FeatureConfig.parse("recent=item_id:history:0"));
        assertThrows(IllegalArgumentException.class, () -> FeatureConfig.parse("user=user_id:categorical:shareWith=item"));
        IllegalArgumentException noTarget = assertThrows(IllegalArgumentException.class, () -> withHistory("title", List.of("a")));
        assertTrue(noTarget.getMessage().contains("shareWith=title names no categorical candidate feature"), noTarget.getMessage());
        IllegalArgumentException vocabulary = assertThrows(IllegalArgumentException.class,
                () -> withHistory("item", List.of("a", "b")));
        assertTrue(vocabulary.getMessage().contains("vocabulary differs from that of 'item'"), vocabulary.getMessage());
        IllegalArgumentException candidate = assertThrows(IllegalArgumentException.class,
                () -> TowerFeatures.parse(List.of("user_id:categorical"), List.of("item_id:history")));
        assertTrue(candidate.getMessage().contains("declare it among the query features"), candidate.getMessage());
    }
}
