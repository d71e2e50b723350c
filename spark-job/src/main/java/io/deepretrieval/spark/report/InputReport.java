package io.deepretrieval.spark.report;

import com.fasterxml.jackson.databind.node.ArrayNode;
import io.deepretrieval.model.io.AtomicFiles;
import io.deepretrieval.spark.ingest.DroppedLines;
import io.deepretrieval.spark.ingest.InputNote;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code input-report.json}: the input lines dropped under dropMalformed, per file, with the first examples
 * ({@code file}, {@code dropped}, {@code examples}), and the lines accepted with a note under either policy
 * ({@code file}, {@code accepted}, {@code note}).
 */
public final class InputReport {
    private static final Logger LOG = LoggerFactory.getLogger(InputReport.class);

    private InputReport() {
    }

    /** Writes the report into {@code dir}; the reader has logged the notes already. */
    public static void write(Path dir, List<DroppedLines> dropped, List<InputNote> notes) throws IOException {
        ArrayNode doc = CurveFiles.JSON.createArrayNode();
        for (DroppedLines d : dropped) {
            LOG.warn("Dropped {} malformed lines of {}, first: {}", d.count(), d.file(), d.examples().get(0));
            ArrayNode examples = doc.addObject().put("file", d.file()).put("dropped", d.count()).putArray("examples");
            d.examples().forEach(examples::add);
        }
        for (InputNote n : notes) {
            doc.addObject().put("file", n.file()).put("accepted", n.count()).put("note", n.note());
        }
        AtomicFiles.write(dir.resolve("input-report.json"), CurveFiles.JSON.writeValueAsBytes(doc));
    }
}
