package io.deepretrieval.model.compat;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertEquals;

class QuietStdoutTest {
    @Test
    void onlyTheMutedThreadsOutputIsDropped() throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            CountDownLatch muted = new CountDownLatch(1);
            CountDownLatch written = new CountDownLatch(1);
            Thread other = new Thread(() -> {
                try {
                    muted.await();
                    System.out.print("other thread;");
                    written.countDown();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            other.start();
            QuietStdout.run(() -> {
                System.out.print("muted;");
                muted.countDown();
                try {
                    written.await();  // the other thread writes while this one is muted
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            other.join();
            System.out.print("after;");
            assertEquals("other thread;after;", captured.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(original);
        }
    }
}
