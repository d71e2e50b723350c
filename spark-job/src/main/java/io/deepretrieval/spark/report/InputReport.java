package io.deepretrieval.spark.report;

import com.fasterxml.jackson.databind.node.ArrayNode;
import io.deepretrieval.model.io.AtomicFiles;
import io.deepretrieval.spark.ingest.DroppedLines;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** {@code input-report.json}: the input lines dropped under dropMalformed, per file, with the first examples. */
public final class InputReport {
    private static final Logger LOG = LoggerFactory.getLogger(InputReport.class);

    private InputReport() {
    }

    public static void write(Path dir, List<DroppedLines> dropped) throws IOException {
        ArrayNode doc = CurveFiles.JSON.createArrayNode();
        for (DroppedLines d : dropped) {
            LOG.warn("Dropped {} malformed lines of {}, first: {}", d.count(), d.file(), d.examples().get(0));
            ArrayNode examples = doc.addObject().put("file", d.file()).put("dropped", d.count()).putArray("examples");
            d.examples().forEach(examples::add);
        }
        AtomicFiles.write(dir.resolve("input-report.json"), CurveFiles.JSON.writeValueAsBytes(doc));
    }
}
