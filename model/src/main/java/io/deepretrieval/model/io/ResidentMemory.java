package io.deepretrieval.model.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Resident memory of this process (heap, native ND4J buffers and all), read from /proc on Linux. */
public final class ResidentMemory {
    private ResidentMemory() {
    }

    /** Resident set size in bytes, or -1 where /proc/self/status is not available. */
    public static long bytes() {
        return statusKilobytes("VmRSS:") * 1024;
    }

    /** Peak resident set size in bytes (VmHWM), or -1. */
    public static long peakBytes() {
        return statusKilobytes("VmHWM:") * 1024;
    }

    private static long statusKilobytes(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field)) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
