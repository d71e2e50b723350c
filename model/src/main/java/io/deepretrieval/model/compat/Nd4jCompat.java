package io.deepretrieval.model.compat;

import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * Startup check that the workarounds of this package still fit the ND4J on the classpath: its version is the one
 * they were written for, every private field they read exists with the expected type, and libnd4j has the op the
 * gradient barrier uses. Fails with one message listing what to check, instead of a subtle leak or wrong gradient.
 */
public final class Nd4jCompat {
    /** The ND4J release the workarounds were written and measured for. */
    public static final String WRITTEN_FOR = "1.0.0-M2.1";
    /** System property that turns the version comparison (not the field checks) off, for trying a newer ND4J. */
    public static final String ALLOW_OTHER_VERSION = "deepretrieval.compat.allowOtherNd4j";
    private static volatile boolean passed;

    private Nd4jCompat() {
    }

    /** Runs the checks once per JVM; throws {@link IllegalStateException} naming every problem. */
    public static void check() {
        if (passed) {
            return;
        }
        synchronized (Nd4jCompat.class) {
            if (passed) {
                return;
            }
            List<String> problems = problems(nd4jVersion(), Boolean.getBoolean(ALLOW_OTHER_VERSION));
            if (!problems.isEmpty()) {
                throw new IllegalStateException("ND4J compatibility check failed (workarounds in "
                        + Nd4jCompat.class.getPackageName() + " were written for ND4J " + WRITTEN_FOR + "):\n  - "
                        + String.join("\n  - ", problems));
            }
            passed = true;
        }
    }

    /** What does not fit, for an ND4J of version {@code version} (empty when everything does). */
    static List<String> problems(String version, boolean allowOtherVersion) {
        List<String> p = new ArrayList<>();
        if (!WRITTEN_FOR.equals(version) && !allowOtherVersion) {
            p.add("nd4j-api on the classpath is " + version + "; check each class of this package against it (and"
                    + " rerun the memory benchmarks), then run with -D" + ALLOW_OTHER_VERSION + "=true");
        }
        p.addAll(SameDiffSessions.fieldProblems());
        if (!Nd4j.getExecutioner().getCustomOperations().containsKey(GradientBarrier.OP)) {
            p.add("libnd4j has no '" + GradientBarrier.OP + "' op: GradientBarrier needs another way to cut autodiff");
        }
        return p;
    }

    /** The version in nd4j-api's Maven metadata, or "unknown" (e.g. in a shaded jar that dropped it). */
    static String nd4jVersion() {
        try (InputStream in = SameDiff.class.getClassLoader()
                .getResourceAsStream("META-INF/maven/org.nd4j/nd4j-api/pom.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties props = new Properties();
            props.load(in);
            return props.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }
}
