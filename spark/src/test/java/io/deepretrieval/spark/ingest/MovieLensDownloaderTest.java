package io.deepretrieval.spark.ingest;

import io.deepretrieval.spark.LoopbackFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The download step against a real HTTP server on loopback serving a synthetic archive. */
class MovieLensDownloaderTest {
    @RegisterExtension
    final LoopbackFiles server = new LoopbackFiles();
    private final Map<String, byte[]> files = server.files();

    private String url() {
        return server.url("/datasets/ml-100k.zip");
    }

    private static byte[] zip(Map<String, String> entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            for (Map.Entry<String, String> e : entries.entrySet()) {
                zip.putNextEntry(new ZipEntry(e.getKey()));
                zip.write(e.getValue().getBytes(StandardCharsets.ISO_8859_1));
                zip.closeEntry();
            }
        }
        return bytes.toByteArray();
    }

    private static String md5(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data));
    }

    @Test
    void downloadsVerifiesUnpacksAndThenReusesTheCache(@TempDir Path dir) throws Exception {
        byte[] archive = zip(Map.of("ml-100k/u.data", "1\t2\t3\t881250949\n", "ml-100k/u.item", "2|Café (1995)|x\n",
                "ml-100k/README", "synthetic"));
        files.put("/datasets/ml-100k.zip", archive);
        files.put("/datasets/ml-100k.zip.md5", ("MD5 (ml-100k.zip) = " + md5(archive) + "\n").getBytes());
        Path target = dir.resolve("cache/ml-100k");
        new MovieLensDownloader(url()).ensure(target);
        assertEquals("1\t2\t3\t881250949\n", Files.readString(target.resolve("u.data")));
        assertArrayEquals("2|Café (1995)|x\n".getBytes(StandardCharsets.ISO_8859_1), Files.readAllBytes(target.resolve("u.item")));
        int before = server.requests();
        new MovieLensDownloader(url()).ensure(target);
        assertEquals(before, server.requests(), "a complete cache must not be downloaded again");
        try (var leftovers = Files.list(dir.resolve("cache"))) {
            assertEquals(1, leftovers.count(), "temporary files were left behind");
        }
    }

    @Test
    void checksumMismatchIsRejectedAndLeavesNothing(@TempDir Path dir) throws Exception {
        byte[] archive = zip(Map.of("ml-100k/u.data", "1\t2\t3\t4\n", "ml-100k/u.item", "2|A|x\n"));
        files.put("/datasets/ml-100k.zip", archive);
        files.put("/datasets/ml-100k.zip.md5", "0123456789abcdef0123456789abcdef  ml-100k.zip\n".getBytes());
        Path target = dir.resolve("ml-100k");
        IOException e = assertThrows(IOException.class, () -> new MovieLensDownloader(url()).ensure(target));
        assertTrue(e.getMessage().contains("corrupt"), e.getMessage());
        assertFalse(Files.exists(target));
        try (var leftovers = Files.list(dir)) {
            assertEquals(0, leftovers.count());
        }
    }

    @Test
    void archiveWithoutTheRatingsIsRejected(@TempDir Path dir) throws Exception {
        files.put("/datasets/ml-100k.zip", zip(Map.of("ml-100k/u.item", "2|A|x\n"))); // no .md5 published
        IOException e = assertThrows(IOException.class, () -> new MovieLensDownloader(url()).ensure(dir.resolve("d")));
        assertTrue(e.getMessage().contains("has no u.data"), e.getMessage());
    }

    @Test
    void offlineErrorSaysWhereToPutTheFiles(@TempDir Path dir) throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        Path target = dir.resolve("ml-100k");
        IOException e = assertThrows(IOException.class,
                () -> new MovieLensDownloader("http://127.0.0.1:" + closedPort + "/ml-100k.zip").ensure(target));
        assertTrue(e.getMessage().contains("offline"), e.getMessage());
        assertTrue(e.getMessage().contains(target.toAbsolutePath().toString()), e.getMessage());
    }
}
