package io.deepretrieval.model.compat;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Nd4jCompatTest {
    @Test
    void theNd4jOnTheClasspathIsTheOneTheWorkaroundsWereWrittenFor() {
        assertEquals(Nd4jCompat.WRITTEN_FOR, Nd4jCompat.nd4jVersion());
        assertEquals(List.of(), Nd4jCompat.problems(Nd4jCompat.nd4jVersion(), false));
        assertDoesNotThrow(Nd4jCompat::check);
    }

    @Test
    void anotherVersionIsReportedWithWhatToCheckUnlessAllowed() {
        List<String> problems = Nd4jCompat.problems("1.0.0-M3", false);
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("1.0.0-M3") && problems.get(0).contains(Nd4jCompat.ALLOW_OTHER_VERSION),
                problems.get(0));
        assertEquals(List.of(), Nd4jCompat.problems("1.0.0-M3", true));
    }
}
