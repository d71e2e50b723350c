package io.deepretrieval.model.train;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A failed slice of a step stops the others and frees what the finished ones hold. */
class SliceFailureTest {
    @Test
    void aFailedSliceCancelsTheWaitingOnesWaitsForTheRunningOneAndFreesItsResult() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(1);
        try {
            CountDownLatch running = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            AtomicBoolean waitingRan = new AtomicBoolean();
            AtomicBoolean abort = new AtomicBoolean();
            List<Future<String>> others = new ArrayList<>();
            others.add(pool.submit(() -> {
                running.countDown();
                release.await(10, TimeUnit.SECONDS);
                return "finished slice";
            }));
            others.add(pool.submit(() -> { // queued behind the first on the one pool thread, as the step submits it
                if (abort.get()) {
                    return null;
                }
                waitingRan.set(true);
                return "waiting slice";
            }));
            running.await();
            List<String> freed = new ArrayList<>();
            IllegalStateException boom = new IllegalStateException("slice 0 failed");
            new Thread(() -> {
                sleep(200);
                release.countDown();
            }).start();
            IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> TrainingStep.collectSlices(() -> {
                throw boom;
            }, others, abort, freed::add));
            assertSame(boom, thrown);
            assertTrue(others.get(0).isDone(), "the running slice ended before the step returned");
            assertEquals(List.of("finished slice"), freed, "the finished slice's arrays are freed");
            assertFalse(waitingRan.get(), "the waiting slice never ran");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aLaterFailureIsSuppressedAndEverySuccessIsFreed() {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<String>> others = List.of(pool.submit(() -> {
                throw new IllegalArgumentException("slice 1 failed");
            }), pool.submit(() -> {
                throw new ArithmeticException("slice 2 failed");
            }));
            List<String> freed = new ArrayList<>();
            RuntimeException thrown = assertThrows(RuntimeException.class,
                    () -> TrainingStep.collectSlices(() -> "slice 0", others, new AtomicBoolean(), freed::add));
            assertEquals("slice 1 failed", thrown.getMessage());
            assertTrue(thrown.getSuppressed().length <= 1);
            assertEquals(List.of("slice 0"), freed);
        } finally {
            pool.shutdownNow();
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
