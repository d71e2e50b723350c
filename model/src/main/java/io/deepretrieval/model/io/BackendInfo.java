package io.deepretrieval.model.io;

import org.nd4j.linalg.factory.Nd4j;

import java.util.Properties;

/** One line saying which ND4J backend and device this JVM computes on, for logs on driver and executors. */
public final class BackendInfo {
    private BackendInfo() {
    }

    public static String describe() {
        Properties env = Nd4j.getExecutioner().getEnvironmentInformation();
        StringBuilder sb = new StringBuilder(Nd4j.getBackend().getClass().getSimpleName());
        append(sb, env, "backend");
        append(sb, env, "blas.vendor");
        append(sb, env, "omp.threads");
        append(sb, env, "cores");
        // omp.threads is the pool ND4J started with; nativeThreads caps what each op uses below it through
        // maxMasterThreads and the BLAS threads (M2.1 ignores setMaxThreads: maxThreads stays at the core count).
        sb.append(", maxThreads ").append(Nd4j.getEnvironment().maxThreads())
                .append(", maxMasterThreads ").append(Nd4j.getEnvironment().maxMasterThreads());
        Object devices = env.get("cuda.devicesInformation");
        if (devices != null) {
            sb.append(", device ").append(Nd4j.getAffinityManager().getDeviceForCurrentThread())
                    .append(" of ").append(devices);
        }
        return sb.toString();
    }

    /** True when ND4J computes on a GPU (the CUDA backend). */
    public static boolean isGpu() {
        return Nd4j.getExecutioner().getEnvironmentInformation().get("cuda.devicesInformation") != null;
    }

    private static void append(StringBuilder sb, Properties env, String key) {
        Object v = env.get(key);
        if (v != null) {
            sb.append(", ").append(key).append('=').append(v);
        }
    }
}
