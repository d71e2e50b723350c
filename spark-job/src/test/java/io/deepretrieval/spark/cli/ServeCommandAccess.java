package io.deepretrieval.spark.cli;

import io.deepretrieval.model.serving.SavedModel;

import java.io.IOException;
import java.nio.file.Path;

/** Test access to {@code serve}'s model loading (package-private) from other packages' tests. */
public final class ServeCommandAccess {
    private ServeCommandAccess() {
    }

    public static SavedModel load(Path model) throws IOException {
        return ServeCommand.load(model);
    }
}
