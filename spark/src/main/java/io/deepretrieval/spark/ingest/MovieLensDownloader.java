package io.deepretrieval.spark.ingest;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Fetches MovieLens 100k from GroupLens into a cache folder: downloads the zip, checks it against the MD5 that
 * GroupLens publishes beside it ({@code ml-100k.zip.md5}) and that it holds {@code u.data} and {@code u.item},
 * then unpacks it. An existing, complete folder is reused; nothing half-downloaded is left behind.
 */
public final class MovieLensDownloader {
    public static final String GROUPLENS_URL = "https://files.grouplens.org/datasets/movielens/ml-100k.zip";
    private static final Set<String> REQUIRED = Set.of("u.data", "u.item");

    private final HttpClient http;
    private final String url;

    public MovieLensDownloader(String url) {
        this.url = url;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(20))
                .followRedirects(HttpClient.Redirect.NORMAL).build();
    }

    /** Makes {@code target} hold MovieLens 100k (u.data, u.item, ...) and returns it. */
    public Path ensure(Path target) throws IOException {
        if (Files.isRegularFile(target.resolve("u.data")) && Files.isRegularFile(target.resolve("u.item"))) {
            return target;
        }
        Path parent = target.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path zip = Files.createTempFile(parent, "ml-100k", ".zip.part");
        Path staging = Files.createTempDirectory(parent, "ml-100k.staging");
        try {
            byte[] digest = fetch(URI.create(url), zip);
            String expected = expectedMd5();
            String actual = HexFormat.of().formatHex(digest);
            if (expected != null && !expected.equalsIgnoreCase(actual)) {
                throw new IOException("download of " + url + " is corrupt: MD5 " + actual + ", GroupLens publishes " + expected);
            }
            unpack(zip, staging);
            for (String name : REQUIRED) {
                if (!Files.isRegularFile(staging.resolve(name))) {
                    throw new IOException("the archive from " + url + " has no " + name);
                }
            }
            Files.createDirectories(target);
            try (var files = Files.list(staging)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    Files.move(f, target.resolve(f.getFileName().toString()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            return target;
        } catch (java.net.ConnectException | java.net.UnknownHostException | java.net.http.HttpConnectTimeoutException e) {
            throw new IOException("cannot reach " + url + " (" + e.getClass().getSimpleName() + "). This machine looks"
                    + " offline: download ml-100k.zip elsewhere and unpack u.data and u.item into " + target.toAbsolutePath(), e);
        } finally {
            Files.deleteIfExists(zip);
            deleteTree(staging);
        }
    }

    private byte[] fetch(URI uri, Path into) throws IOException {
        HttpResponse<InputStream> response = send(uri);
        if (response.statusCode() != 200) {
            throw new IOException("GET " + uri + " answered HTTP " + response.statusCode());
        }
        try {
            MessageDigest md5 = MessageDigest.getInstance("MD5");
            try (InputStream in = new java.security.DigestInputStream(response.body(), md5)) {
                Files.copy(in, into, StandardCopyOption.REPLACE_EXISTING);
            }
            return md5.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The published checksum, or null when the server has none (then only the archive's content is checked). */
    private String expectedMd5() throws IOException {
        HttpResponse<InputStream> response = send(URI.create(url + ".md5"));
        try (InputStream in = response.body()) {
            if (response.statusCode() != 200) {
                return null;
            }
            String text = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\b([0-9a-fA-F]{32})\\b").matcher(text);
            return m.find() ? m.group(1) : null;
        }
    }

    private HttpResponse<InputStream> send(URI uri) throws IOException {
        try {
            return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(5)).GET().build(),
                    HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while fetching " + uri, e);
        }
    }

    /** Unpacks the archive's files flat into {@code dir} (the zip nests them under ml-100k/). */
    private static void unpack(Path zip, Path dir) throws IOException {
        try (ZipInputStream in = new ZipInputStream(Files.newInputStream(zip))) {
            for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
                if (e.isDirectory()) {
                    continue;
                }
                String name = Path.of(e.getName()).getFileName().toString();
                if (name.startsWith(".") || name.contains("..")) {
                    continue;
                }
                Files.copy(in, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (java.util.zip.ZipException e) {
            throw new IOException("the download is not a valid zip archive: " + e.getMessage(), e);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) walk.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
