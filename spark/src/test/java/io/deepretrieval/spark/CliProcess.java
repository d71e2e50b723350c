package io.deepretrieval.spark;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Starts the CLI in a fresh JVM with this test JVM's classpath and the Java 17 flags, output to a log file. */
public final class CliProcess {
    private CliProcess() {
    }

    /** A child's log for a failure message (or why it cannot be read). */
    public static String read(Path log) {
        try {
            return java.nio.file.Files.readString(log);
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }

    public static Process start(Path log, String... args) throws IOException {
        return start(List.of(), log, args);
    }

    /** As {@link #start(Path, String...)}, with extra JVM options (e.g. {@code -XX:ActiveProcessorCount=3}). */
    public static Process start(List<String> jvmOptions, Path log, String... args) throws IOException {
        return startMain("io.deepretrieval.spark.cli.Main", jvmOptions, log, args);
    }

    /** Any main class of this classpath in a fresh JVM. */
    public static Process startMain(String mainClass, List<String> jvmOptions, Path log, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx2g"));
        cmd.addAll(jvmOptions);
        cmd.addAll(Arrays.asList(System.getProperty("java17.opens", "").split("\\s+")));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
        cmd.addAll(Arrays.asList(args));
        cmd.removeIf(String::isEmpty);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        return pb.start();
    }
}
