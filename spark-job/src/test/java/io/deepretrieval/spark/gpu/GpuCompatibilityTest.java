package io.deepretrieval.spark.gpu;

import io.deepretrieval.spark.gpu.GpuCompatibility.Backend;
import io.deepretrieval.spark.gpu.GpuCompatibility.Decision;
import io.deepretrieval.spark.gpu.GpuCompatibility.Device;
import io.deepretrieval.spark.gpu.GpuCompatibility.Policy;
import io.deepretrieval.spark.gpu.GpuCompatibility.Support;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The compatibility decision on recorded {@code nvidia-smi --query-gpu=name,compute_cap --format=csv,noheader} lines. */
class GpuCompatibilityTest {
    private static final String H200 = "NVIDIA H200, 9.0\n";
    private static final String A100 = "NVIDIA A100-SXM4-80GB, 8.0\n";
    private static final String L4 = "NVIDIA L4, 8.9\n";
    private static final String T4 = "Tesla T4, 7.5\n";
    private static final String K80 = "Tesla K80, 3.7\nTesla K80, 3.7\n";

    private static Decision decide(Policy policy, String smi) {
        return GpuCompatibility.decide(policy, GpuCompatibility.parse(smi));
    }

    @Test
    void h200HasNoCodeInTheBackendAndFallsBackToCpuWithOneWarningUnderPrefer() {
        List<Device> devices = GpuCompatibility.parse(H200);
        assertEquals(List.of(new Device("NVIDIA H200", 90)), devices);
        assertEquals(Support.UNSUPPORTED, devices.get(0).support());
        Decision d = GpuCompatibility.decide(Policy.PREFER, devices);
        assertEquals(Backend.CPU, d.backend());
        assertFalse(d.fail());
        assertTrue(d.message().contains("NVIDIA H200 (compute capability 9.0)"), d.message());
        assertTrue(d.message().contains(GpuCompatibility.SUPPORTED_RANGE), d.message());
        assertTrue(d.message().contains("CPU backend"), d.message());
    }

    @Test
    void h200FailsUnderRequireWithTheSameReasonAndIsNotCheckedUnderOff() {
        Decision d = decide(Policy.REQUIRE, H200);
        assertTrue(d.fail());
        assertTrue(d.message().contains("cannot drive NVIDIA H200 (compute capability 9.0)"), d.message());
        assertTrue(d.message().contains("3.7 and 5.0 to 8.9"), d.message());
        Decision off = decide(Policy.OFF, H200);
        assertEquals(Backend.GPU, off.backend());
        assertFalse(off.fail());
    }

    @Test
    void a100T4AndK80RunTheirOwnSass() {
        for (String smi : List.of(A100, T4, K80)) {
            for (Device d : GpuCompatibility.parse(smi)) {
                assertEquals(Support.NATIVE, d.support(), d.toString());
            }
            for (Policy p : List.of(Policy.PREFER, Policy.REQUIRE)) {
                Decision d = decide(p, smi);
                assertEquals(Backend.GPU, d.backend(), smi);
                assertFalse(d.fail(), smi);
            }
        }
        assertEquals(2, GpuCompatibility.parse(K80).size());
        assertTrue(decide(Policy.PREFER, A100).message().contains("sm_80 code"));
    }

    @Test
    void l4RunsSm86CodeByMinorVersionCompatibility() {
        Device l4 = GpuCompatibility.parse(L4).get(0);
        assertEquals(new Device("NVIDIA L4", 89), l4);
        assertEquals(Support.BY_COMPATIBILITY, l4.support());
        assertEquals(86, GpuCompatibility.runnableSass(89));
        Decision d = decide(Policy.REQUIRE, L4);
        assertEquals(Backend.GPU, d.backend());
        assertTrue(d.message().contains("runs sm_86 code by NVIDIA's minor-version compatibility"), d.message());
    }

    @Test
    void capabilityRulesAcrossGenerations() {
        assertEquals(80, GpuCompatibility.runnableSass(80));
        assertEquals(86, GpuCompatibility.runnableSass(87)); // Jetson Orin
        assertEquals(70, GpuCompatibility.runnableSass(72)); // Xavier
        assertEquals(61, GpuCompatibility.runnableSass(62));
        assertEquals(-1, GpuCompatibility.runnableSass(35)); // Kepler K40: only sm_37 code, a higher minor
        assertEquals(-1, GpuCompatibility.runnableSass(90)); // Hopper
        assertEquals(-1, GpuCompatibility.runnableSass(100)); // Blackwell B200
        assertEquals(-1, GpuCompatibility.runnableSass(120)); // Blackwell RTX 50
        assertEquals(Support.UNSUPPORTED, GpuCompatibility.parse("NVIDIA B200, 10.0").get(0).support());
    }

    @Test
    void oneUnsupportedDeviceAmongSeveralDecidesForTheWorker() {
        Decision d = decide(Policy.PREFER, A100 + H200);
        assertEquals(Backend.CPU, d.backend());
        assertTrue(d.message().contains("NVIDIA H200") && !d.message().contains("A100-SXM4-80GB (compute"), d.message());
    }

    @Test
    void noNvidiaSmiOrAnEmptyListMeansCpuAndFailsOnlyUnderRequire() {
        for (String smi : List.of("", "\n", "No devices were found\n")) {
            assertEquals(List.of(), GpuCompatibility.parse(smi));
            Decision prefer = decide(Policy.PREFER, smi);
            assertEquals(Backend.CPU, prefer.backend());
            assertFalse(prefer.fail());
            assertTrue(decide(Policy.REQUIRE, smi).fail());
        }
        assertEquals(List.of(), GpuCompatibility.parse(null));
        assertEquals("", GpuCompatibility.queryNvidiaSmi("/nonexistent/nvidia-smi"));
    }

    @Test
    void aDriverThatDoesNotReportTheCapabilityIsNotCheckedButSaysSo() {
        Device d = GpuCompatibility.parse("Tesla K80, [N/A]\n").get(0);
        assertEquals(Support.UNKNOWN, d.support());
        Decision decision = decide(Policy.REQUIRE, "Tesla K80, [N/A]\n");
        assertEquals(Backend.GPU, decision.backend());
        assertTrue(decision.message().contains("not checked"), decision.message());
    }

    @Test
    void policyParsesItsThreeNames() {
        assertEquals(Policy.PREFER, Policy.parse("prefer"));
        assertEquals(Policy.REQUIRE, Policy.parse(" Require "));
        assertEquals(Policy.OFF, Policy.parse("off"));
        assertThrows(IllegalArgumentException.class, () -> Policy.parse("gpu"));
    }

    @Test
    void commandLinePrintsTheBackendAndExitsOneWhenRequireFails(@TempDir Path dir) throws IOException {
        Path smi = fakeNvidiaSmi(dir, H200);
        assertEquals(new Run(0, "cpu\n"), run("--policy", "prefer", "--nvidia-smi", smi.toString()));
        Run require = run("--policy", "require", "--nvidia-smi", smi.toString());
        assertEquals(1, require.rc);
        assertEquals("", require.out);
        assertTrue(require.err.startsWith("ERROR GpuCompatibility: ND4J nd4j-cuda-11.6 1.0.0-M2.1 cannot drive NVIDIA H200"),
                require.err);
        assertEquals(new Run(0, "gpu\n"), run("--policy", "require", "--nvidia-smi", fakeNvidiaSmi(dir, L4).toString()));
        assertEquals(new Run(0, "gpu\n"), run("--policy", "off", "--nvidia-smi", smi.toString()));
        assertEquals(new Run(0, "cpu\n"), run("--nvidia-smi", dir.resolve("absent").toString()));
        assertEquals(2, run("--policy", "maybe").rc);
    }

    private static Path fakeNvidiaSmi(Path dir, String output) throws IOException {
        Path script = dir.resolve("nvidia-smi-" + Math.abs(output.hashCode()));
        Files.writeString(script, "#!/bin/sh\nprintf '" + output.replace("\n", "\\n") + "'\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script;
    }

    private record Run(int rc, String out, String err) {
        Run(int rc, String out) {
            this(rc, out, null);
        }

        @Override
        public boolean equals(Object o) { // rc and stdout; stderr is checked where it matters
            return o instanceof Run r && r.rc == rc && r.out.equals(out);
        }

        @Override
        public int hashCode() {
            return rc;
        }
    }

    private static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = GpuCompatibility.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(rc, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
