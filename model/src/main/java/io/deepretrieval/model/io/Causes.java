package io.deepretrieval.model.io;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/** Finds an exception of a given type in a cause chain (Spark wraps a task's exception in its own). */
public final class Causes {
    private Causes() {
    }

    /** The first {@code type} in {@code error}'s cause chain, itself included, or null; cycles are cut. */
    public static <T extends Throwable> T find(Throwable error, Class<T> type) {
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Throwable t = error; t != null && seen.add(t); t = t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }
}
