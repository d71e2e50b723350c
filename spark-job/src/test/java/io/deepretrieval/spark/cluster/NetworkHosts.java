package io.deepretrieval.spark.cluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Test hosts on one machine: each host is its own network namespace with its own address (a veth pair to a bridge
 * in a switch namespace, {@code ip netns} + veth), and the processes it starts see their own folder at one common
 * path (a bind mount in the mount namespace that {@code ip netns exec} gives each process). So a connection to
 * 127.0.0.1 reaches only the host itself, and a file one host writes under the common path is not there for the
 * others: nothing can rely on loopback or on a local path that happens to be shared.
 */
final class NetworkHosts implements AutoCloseable {
    private final String prefix;
    /** The namespace holding the bridge every host's veth joins. */
    private final String switchNs;
    private final String subnet;
    private final Path mountPoint;
    private final Map<String, Path> dirs = new LinkedHashMap<>();
    private final Map<String, String> addresses = new LinkedHashMap<>();

    /**
     * @param root       where each host's own folder is made ({@code root/<host>})
     * @param mountPoint the path at which every host sees its own folder
     */
    NetworkHosts(Path root, Path mountPoint, List<String> hosts) throws IOException {
        int id = ThreadLocalRandom.current().nextInt(1 << 16);
        this.prefix = String.format("dr%04x", id); // names stay under the 15 characters of an interface name
        this.switchNs = prefix + "-sw";
        this.subnet = "10.213." + (1 + id % 250);
        this.mountPoint = Files.createDirectories(mountPoint);
        try {
            build(root, hosts);
        } catch (IOException | RuntimeException e) {
            deleteNamespaces(hosts); // nothing half-made stays behind
            throw e;
        }
    }

    private void build(Path root, List<String> hosts) throws IOException {
        ip("netns", "add", switchNs);
        ip("-n", switchNs, "link", "add", "br0", "type", "bridge");
        ip("-n", switchNs, "link", "set", "br0", "up");
        for (int i = 0; i < hosts.size(); i++) {
            String host = hosts.get(i);
            String ns = namespace(host);
            String address = subnet + "." + (i + 1);
            String inside = prefix + "h" + i;
            String outside = prefix + "s" + i;
            ip("netns", "add", ns);
            ip("link", "add", inside, "type", "veth", "peer", "name", outside);
            ip("link", "set", inside, "netns", ns);
            ip("link", "set", outside, "netns", switchNs);
            ip("-n", switchNs, "link", "set", outside, "master", "br0", "up");
            ip("-n", ns, "addr", "add", address + "/24", "dev", inside);
            ip("-n", ns, "link", "set", inside, "up");
            ip("-n", ns, "link", "set", "lo", "up");
            addresses.put(host, address);
            dirs.put(host, Files.createDirectories(root.resolve(host)));
        }
    }

    /** Why hosts cannot be made here (not root, no iproute2, no namespaces), or null when they can. */
    static String unavailable() {
        String probe = String.format("drprobe%04x", ThreadLocalRandom.current().nextInt(1 << 16));
        try {
            ip("netns", "add", probe);
            ip("netns", "del", probe);
            return null;
        } catch (IOException | RuntimeException e) {
            return "cannot make network namespaces (ip netns needs root): " + e.getMessage();
        }
    }

    String address(String host) {
        return addresses.get(host);
    }

    /** What {@code host} sees at the common path. */
    Path dir(String host) {
        return dirs.get(host);
    }

    /** {@code command} as run on {@code host}: in its network namespace, with its folder at the common path. */
    List<String> command(String host, List<String> command) {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", namespace(host), "sh", "-c",
                "mount --bind \"$1\" \"$2\" && shift 2 && exec \"$@\"", "sh", dirs.get(host).toString(),
                mountPoint.toString()));
        cmd.addAll(command);
        return cmd;
    }

    @Override
    public void close() throws IOException {
        IOException failed = deleteNamespaces(List.copyOf(addresses.keySet()));
        if (failed != null) {
            throw failed;
        }
    }

    /** Deletes the hosts' and the switch's namespaces that exist; returns the first failure, or null. */
    private IOException deleteNamespaces(List<String> hosts) {
        // Deleting a namespace deletes the veth ends in it; the bridge goes with the switch namespace.
        List<String> names = new ArrayList<>(hosts.stream().map(this::namespace).toList());
        names.add(switchNs);
        IOException first = null;
        for (String ns : names) {
            if (Files.exists(Path.of("/var/run/netns", ns))) {
                try {
                    ip("netns", "del", ns);
                } catch (IOException e) {
                    first = first == null ? e : first;
                }
            }
        }
        return first;
    }

    private String namespace(String host) {
        return prefix + "-" + host;
    }

    private static void ip(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("ip"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", cmd) + ": no answer in 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(String.join(" ", cmd) + ": interrupted", e);
        }
        String output = new String(p.getInputStream().readAllBytes()).trim();
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed (exit " + p.exitValue() + "): " + output);
        }
    }
}
