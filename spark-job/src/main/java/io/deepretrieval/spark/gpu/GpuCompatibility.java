package io.deepretrieval.spark.gpu;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Whether ND4J's CUDA backend of this build ({@code nd4j-cuda-11.6:1.0.0-M2.1}) can drive this machine's GPUs,
 * decided from their compute capability instead of assumed.
 *
 * <p>{@code libnd4jcuda.so} of that release holds machine code (SASS) for sm_37, 50, 52, 60, 61, 70, 75, 80 and
 * 86 and no PTX. By NVIDIA's compatibility rules a cubin built for sm_XY runs on a device of the same major
 * version X with minor version &gt;= Y, and without PTX nothing can be compiled for another major version. So:
 * the listed capabilities run their own code; a device of a listed major version and a higher minor runs the
 * nearest lower code by those rules (8.9, Ada: L4, L40, runs sm_86 code; 8.7 too); a major version without code
 * (9.x Hopper: H100, H200; 10.x and 12.x Blackwell) or a minor below all code of its major (3.5, 3.0) cannot run
 * the backend at all.
 *
 * <p>A GPU worker runs {@link #main} before it starts (docker/entrypoint.sh): it reads
 * {@code nvidia-smi --query-gpu=name,compute_cap --format=csv,noheader} and, on a device this backend cannot
 * drive, does what the policy says: {@link Policy#PREFER} prints {@code cpu} and one warning (the worker's
 * executors then load ND4J's CPU backend), {@link Policy#REQUIRE} fails with the same message, {@link Policy#OFF}
 * checks nothing.
 */
public final class GpuCompatibility {
    /** Compute capabilities with SASS in libnd4jcuda.so of nd4j-cuda-11.6:1.0.0-M2.1, as major * 10 + minor. */
    static final int[] SASS = {37, 50, 52, 60, 61, 70, 75, 80, 86};
    static final String BACKEND = "ND4J nd4j-cuda-11.6 1.0.0-M2.1";
    static final String SUPPORTED_RANGE = "compute capability 3.7 and 5.0 to 8.9 (SASS for sm_37, 50, 52, 60, 61, 70, "
            + "75, 80, 86; no PTX, so nothing from 9.0 on: Hopper H100/H200 and Blackwell are unsupported)";

    private GpuCompatibility() {
    }

    /** What a GPU worker does when the backend cannot drive its device. */
    public enum Policy {
        /** Use ND4J's CPU backend, with one warning naming the device and the supported range (default). */
        PREFER,
        /** Fail with that message. */
        REQUIRE,
        /** No check: ND4J picks its backend as usual. */
        OFF;

        public static Policy parse(String text) {
            try {
                return valueOf(text.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("gpuPolicy must be prefer, require or off, not '" + text + "'");
            }
        }
    }

    /** How a device's compute capability relates to the backend's code. */
    public enum Support {
        /** SASS built for exactly this capability. */
        NATIVE,
        /** No code of its own; SASS of a lower minor version of the same major runs by NVIDIA's rules. */
        BY_COMPATIBILITY,
        /** No code that can run: the backend cannot drive it. */
        UNSUPPORTED,
        /** The driver did not report a capability (nvidia-smi before R510): not checked. */
        UNKNOWN
    }

    /** One GPU as nvidia-smi lists it; {@code capability} is major * 10 + minor, or -1 when not reported. */
    public record Device(String name, int capability) {
        public Support support() {
            if (capability < 0) {
                return Support.UNKNOWN;
            }
            int best = runnableSass(capability);
            return best < 0 ? Support.UNSUPPORTED : best == capability ? Support.NATIVE : Support.BY_COMPATIBILITY;
        }

        String capabilityText() {
            return capability < 0 ? "unknown" : capability / 10 + "." + capability % 10;
        }

        String describe() {
            String cc = name + " (compute capability " + capabilityText() + ")";
            return switch (support()) {
                case NATIVE -> cc + ": sm_" + capability + " code";
                case BY_COMPATIBILITY -> cc + ": runs sm_" + runnableSass(capability) + " code by NVIDIA's minor-version compatibility";
                case UNSUPPORTED -> cc + ": no code for it";
                case UNKNOWN -> cc + ": not reported by this driver, not checked";
            };
        }
    }

    /** The backend a worker's executors should load, and what to tell the operator. */
    public record Decision(Backend backend, boolean fail, String message) {
    }

    public enum Backend {
        /** Leave ND4J's choice alone (its CUDA backend wins where it loads). */
        GPU,
        /** Force ND4J's CPU backend. */
        CPU
    }

    /** The highest SASS of the same major version and a minor version &lt;= the device's, or -1. */
    static int runnableSass(int capability) {
        int best = -1;
        for (int sass : SASS) {
            if (sass / 10 == capability / 10 && sass % 10 <= capability % 10) {
                best = Math.max(best, sass);
            }
        }
        return best;
    }

    /**
     * Parses nvidia-smi's {@code name,compute_cap} CSV lines ("NVIDIA H200, 9.0"). A line whose capability is not
     * a number ("[N/A]") gives a device of unknown capability; output that lists no GPU gives an empty list.
     */
    public static List<Device> parse(String csv) {
        List<Device> devices = new ArrayList<>();
        if (csv == null) {
            return devices;
        }
        for (String line : csv.split("\\R")) {
            line = line.strip();
            if (line.isEmpty()) {
                continue;
            }
            int comma = line.lastIndexOf(',');
            if (comma < 0) {
                continue; // not a device line ("No devices were found", an error)
            }
            String name = line.substring(0, comma).strip();
            devices.add(new Device(name, parseCapability(line.substring(comma + 1).strip())));
        }
        return devices;
    }

    private static int parseCapability(String text) {
        String[] parts = text.split("\\.");
        if (parts.length != 2) {
            return -1;
        }
        try {
            int major = Integer.parseInt(parts[0]);
            int minor = Integer.parseInt(parts[1]);
            return major >= 0 && minor >= 0 && minor <= 9 ? major * 10 + minor : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** The decision for these devices under this policy (devices: empty when nvidia-smi is absent or lists none). */
    public static Decision decide(Policy policy, List<Device> devices) {
        if (policy == Policy.OFF) {
            return new Decision(Backend.GPU, false, "GPU compatibility check off (gpuPolicy=off)");
        }
        if (devices.isEmpty()) {
            String why = "no GPU visible (nvidia-smi absent or lists no device)";
            return policy == Policy.REQUIRE
                    ? new Decision(Backend.CPU, true, why + ": gpuPolicy=require needs a GPU that " + BACKEND
                            + " can drive, " + SUPPORTED_RANGE)
                    : new Decision(Backend.CPU, false, why + ": ND4J's CPU backend");
        }
        List<Device> unsupported = devices.stream().filter(d -> d.support() == Support.UNSUPPORTED).toList();
        String all = devices.stream().map(Device::describe).collect(Collectors.joining("; "));
        if (unsupported.isEmpty()) {
            return new Decision(Backend.GPU, false, BACKEND + " can drive " + all);
        }
        String names = unsupported.stream().map(d -> d.name() + " (compute capability " + d.capabilityText() + ")")
                .collect(Collectors.joining(", "));
        String why = BACKEND + " cannot drive " + names + ": it supports " + SUPPORTED_RANGE;
        return policy == Policy.REQUIRE
                ? new Decision(Backend.CPU, true, why + " (gpuPolicy=require)")
                : new Decision(Backend.CPU, false, why + "; training on ND4J's CPU backend instead (gpuPolicy=prefer)");
    }

    /** nvidia-smi's device list, or "" when it is absent, fails or hangs. */
    static String queryNvidiaSmi(String command) {
        Path out = null;
        try {
            out = Files.createTempFile("nvidia-smi", ".csv");
            Process p = new ProcessBuilder(command, "--query-gpu=name,compute_cap", "--format=csv,noheader")
                    .redirectError(ProcessBuilder.Redirect.DISCARD).redirectOutput(out.toFile()).start();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "";
            }
            return p.exitValue() == 0 ? Files.readString(out, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        } finally {
            if (out != null) {
                out.toFile().delete();
            }
        }
    }

    /**
     * {@code GpuCompatibility [--policy prefer|require|off] [--nvidia-smi COMMAND]}: prints {@code gpu} or
     * {@code cpu} on stdout (the backend the worker's executors should load) and the reason on stderr (a
     * warning when falling back); exits 1 when the policy is {@code require} and the device cannot be driven.
     */
    public static void main(String[] args) {
        int rc = run(args, System.out, System.err);
        if (rc != 0) {
            System.exit(rc);
        }
    }

    /** {@link #main} without the exit: the exit status (0, 1 for a failed requirement, 2 for bad arguments). */
    static int run(String[] args, PrintStream out, PrintStream err) {
        Policy policy = Policy.PREFER;
        String smi = "nvidia-smi";
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--policy" -> policy = Policy.parse(args[++i]);
                    case "--nvidia-smi" -> smi = args[++i];
                    default -> throw new IllegalArgumentException("unknown argument " + args[i]);
                }
            }
        } catch (IllegalArgumentException | ArrayIndexOutOfBoundsException e) {
            err.println("GpuCompatibility: " + e.getMessage()
                    + "\nusage: GpuCompatibility [--policy prefer|require|off] [--nvidia-smi COMMAND]");
            return 2;
        }
        Decision d = decide(policy, policy == Policy.OFF ? List.of() : parse(queryNvidiaSmi(smi)));
        boolean warn = d.fail() || (d.backend() == Backend.CPU && policy != Policy.OFF);
        err.println((d.fail() ? "ERROR " : warn ? "WARN " : "INFO ") + "GpuCompatibility: " + d.message());
        if (d.fail()) {
            return 1;
        }
        out.println(d.backend().name().toLowerCase(Locale.ROOT));
        return 0;
    }
}
