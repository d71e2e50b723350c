package io.deepretrieval.model.features;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class TitleTokenizerTest {
    @Test
    void lowercasesStripsPunctuationAndSplitsOnWhitespace() {
        assertEquals(List.of("star", "wars", "1977"), TitleTokenizer.tokenize("Star Wars (1977)"));
    }

    @Test
    void apostrophesAndHyphensAreRemovedNotSplit() {
        assertEquals(List.of("schindlers", "list", "1993"), TitleTokenizer.tokenize("Schindler's List (1993)"));
        assertEquals(List.of("xmen", "2000"), TitleTokenizer.tokenize("X-Men (2000)"));
    }

    @Test
    void punctuationBetweenWordsLeavesOneSplitPoint() {
        assertEquals(List.of("wallace", "gromit", "the", "best", "of", "aardman", "animation", "1996"),
                TitleTokenizer.tokenize("Wallace & Gromit: The Best of Aardman Animation (1996)"));
    }

    @Test
    void nonAsciiLettersAreKeptAndLowercased() {
        assertEquals(List.of("belle", "de", "jour", "1967"), TitleTokenizer.tokenize("Belle de Jour (1967)"));
        assertEquals(List.of("la", "cité", "des", "enfants", "perdus"), TitleTokenizer.tokenize("La Cité des Enfants Perdus"));
    }

    @Test
    void blankOrPunctuationOnlyTitlesHaveNoTokens() {
        assertEquals(List.of(), TitleTokenizer.tokenize("   "));
        assertEquals(List.of(), TitleTokenizer.tokenize("(!)"));
    }
}
