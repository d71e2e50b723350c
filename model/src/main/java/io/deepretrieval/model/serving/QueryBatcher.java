package io.deepretrieval.model.serving;

import io.deepretrieval.model.features.FeatureColumns;
import io.deepretrieval.model.io.NdArrays;
import io.deepretrieval.model.towers.TwoTowerModel;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * Runs the query tower for many callers on one long-lived thread, several callers' rows per forward pass: the
 * thread takes the oldest waiting request, then every other one already queued (and, with a wait, those arriving
 * within it) up to {@code maxRows} rows, runs the graph once on them all and hands each caller its rows. Under
 * load, requests that arrive while a pass runs share the next one; alone, a request waits for nothing (with the
 * default wait of 0).
 *
 * <p>One thread, because a SameDiff graph must not run concurrently and keeps a session per calling thread; the
 * batch shares that thread's per-call overhead (op dispatch, array allocation), which dominates a pass of a few
 * rows. The batched pass is the training graph itself, so serving cannot drift from training.
 */
final class QueryBatcher implements AutoCloseable {
    private static final AtomicInteger THREADS = new AtomicInteger();

    /**
     * How a batch closes: at {@code maxRows} rows, or {@code waitMicros} after its first request (0: no wait); and
     * how long a caller waits for its rows before {@link QueryTimeoutException} ({@code timeoutMillis}, 0: forever).
     */
    record Settings(int maxRows, long waitMicros, long timeoutMillis) {
        /** Every queued request, up to 64 rows, without waiting for more; no timeout. */
        static final Settings DEFAULT = new Settings(64, 0, 0);

        Settings {
            if (maxRows < 1) {
                throw new IllegalArgumentException("batch rows must be >= 1, got " + maxRows);
            }
            if (waitMicros < 0) {
                throw new IllegalArgumentException("batch wait must be >= 0 microseconds, got " + waitMicros);
            }
            if (timeoutMillis < 0) {
                throw new IllegalArgumentException("query timeout must be >= 0 ms, got " + timeoutMillis);
            }
        }
    }

    private record Pending(FeatureColumns rows, CompletableFuture<float[]> result) {
    }

    private final TwoTowerModel towers;
    private final int dim;
    private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    private volatile Settings settings = Settings.DEFAULT;
    private volatile IntConsumer batchSizes = n -> { };
    private volatile boolean closed;

    QueryBatcher(TwoTowerModel towers) {
        this.towers = towers;
        this.dim = towers.config().outputDim();
        this.thread = new Thread(this::run, "serving-graph-" + THREADS.incrementAndGet());
        thread.setDaemon(true);
        thread.start();
    }

    void settings(Settings s) {
        this.settings = s;
    }

    /** Receives the row count of every forward pass (for a batch-size metric). */
    void batchSizes(IntConsumer listener) {
        this.batchSizes = listener;
    }

    /** Row-major [rows, dim] query embeddings of encoded rows, computed in some forward pass. */
    float[] embed(FeatureColumns rows) {
        if (closed) {
            throw new IllegalStateException("the serving model is closed");
        }
        CompletableFuture<float[]> result = new CompletableFuture<>();
        queue.add(new Pending(rows, result));
        long timeout = settings.timeoutMillis();
        try {
            return timeout == 0 ? result.join() : result.get(timeout, TimeUnit.MILLISECONDS);
        } catch (CompletionException | ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (TimeoutException e) {
            result.cancel(false); // the graph thread skips it if it has not started it yet
            throw new QueryTimeoutException(timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            result.cancel(false);
            throw new IllegalStateException("interrupted while waiting for the query tower", e);
        }
    }

    private void run() {
        List<Pending> batch = new ArrayList<>();
        while (!closed) {
            try {
                Pending first = queue.take();
                if (first.result().isDone()) {
                    continue; // its caller gave up
                }
                batch.add(first);
                Settings s = settings;
                int rows = first.rows().rows();
                long deadline = System.nanoTime() + TimeUnit.MICROSECONDS.toNanos(s.waitMicros());
                while (rows < s.maxRows()) {
                    long left = deadline - System.nanoTime();
                    Pending next = left > 0 ? queue.poll(left, TimeUnit.NANOSECONDS) : queue.poll();
                    if (next == null) {
                        break;
                    }
                    if (next.result().isDone()) {
                        continue;
                    }
                    batch.add(next);
                    rows += next.rows().rows();
                }
                answer(batch, rows);
            } catch (InterruptedException e) {
                break;
            } finally {
                batch.clear();
            }
        }
        Pending left;
        while ((left = queue.poll()) != null) {
            left.result().completeExceptionally(new IllegalStateException("the serving model is closed"));
        }
    }

    private void answer(List<Pending> batch, int rows) {
        float[] all;
        try {
            FeatureColumns inputs = batch.size() == 1 ? batch.get(0).rows()
                    : FeatureColumns.concat(batch.stream().map(Pending::rows).toList());
            try (INDArray e = towers.queryEmbeddings(inputs)) {
                all = NdArrays.floats(e);
            }
        } catch (RuntimeException | Error e) {
            batch.forEach(p -> p.result().completeExceptionally(e));
            return;
        }
        batchSizes.accept(rows);
        int at = 0;
        for (Pending p : batch) {
            int n = p.rows().rows() * dim;
            p.result().complete(Arrays.copyOfRange(all, at, at + n));
            at += n;
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
    }
}
