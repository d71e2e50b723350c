package io.deepretrieval.model.serving;

import io.deepretrieval.model.retrieval.TopK;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * One model version as the server answers with it: the model, the catalogue and its index, and the version number
 * (0 for a model served from a single folder). Requests hold it while they run; once another version replaces it,
 * it closes itself when the last of them ends, so requests in flight finish on the version they started with.
 */
public final class ServedVersion {
    private final long version;
    private final ServingModel model;
    private final Candidates candidates;
    private final TopK index;
    /** Requests running on this version, plus one while it is the served one. */
    private final AtomicInteger holds = new AtomicInteger(1);

    /**
     * @param version    the version number (0: unversioned)
     * @param model      the model (closed with this version)
     * @param candidates what to recommend from
     * @param index      a top-k index over {@code candidates}' embeddings (closed with this version)
     */
    public ServedVersion(long version, ServingModel model, Candidates candidates, TopK index) {
        if (index.size() != candidates.size() || index.dim() != candidates.dim()) {
            throw new IllegalArgumentException("the index holds " + index.size() + " x " + index.dim()
                    + " candidates, the catalogue " + candidates.size() + " x " + candidates.dim());
        }
        this.version = version;
        this.model = model;
        this.candidates = candidates;
        this.index = index;
    }

    public long version() {
        return version;
    }

    public ServingModel model() {
        return model;
    }

    public Candidates candidates() {
        return candidates;
    }

    public TopK index() {
        return index;
    }

    /** Takes a hold for one request; false when this version has already closed (the caller reads the new one). */
    boolean acquire() {
        while (true) {
            int n = holds.get();
            if (n == 0) {
                return false;
            }
            if (holds.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /**
     * Gives back a hold: a request's when it ends, or the served one's when the server lets this version go (on a
     * swap, or when the server's owner stops it); the last one closes the model and the index.
     */
    public void release() {
        if (holds.decrementAndGet() == 0) {
            index.close();
            model.close();
        }
    }

    /** Whether the model and index are closed (every hold given back after it was replaced). */
    boolean closed() {
        return holds.get() == 0;
    }
}
