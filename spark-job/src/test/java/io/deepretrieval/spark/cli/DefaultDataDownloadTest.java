package io.deepretrieval.spark.cli;

import io.deepretrieval.spark.LoopbackFiles;
import io.deepretrieval.spark.SyntheticMovieLens;
import io.deepretrieval.spark.config.SweepConfig;
import io.deepretrieval.spark.ingest.MalformedInputException;
import io.deepretrieval.spark.ingest.MovieLensLayout;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
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

/**
 * The sweep's data step: a missing default folder is downloaded (from a loopback server here, no network), an
 * offline machine gets the commands that fix it, and an explicit --data is never downloaded.
 */
class DefaultDataDownloadTest {
    @RegisterExtension
    final LoopbackFiles server = new LoopbackFiles();
    private final Map<String, byte[]> files = server.files();

    private String url() {
        return server.url("/ml-100k.zip");
    }

    /** Serves a synthetic MovieLens 100k archive (nested under ml-100k/, as GroupLens's) with its MD5 file. */
    private void serveArchive(Path tmp) throws Exception {
        Path source = SyntheticMovieLens.write100k(tmp.resolve("source"), 20, 30, 200, 1);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            for (String name : new String[]{"u.data", "u.item"}) {
                zip.putNextEntry(new ZipEntry("ml-100k/" + name));
                zip.write(Files.readAllBytes(source.resolve(name)));
                zip.closeEntry();
            }
        }
        byte[] archive = bytes.toByteArray();
        files.put("/ml-100k.zip", archive);
        files.put("/ml-100k.zip.md5", ("MD5 (ml-100k.zip) = "
                + HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(archive)) + "\n").getBytes());
    }

    /** A sweep command as the CLI parses it, reading relative paths against {@code workDir}. */
    private static SweepCommand sweep(Path workDir, String url, String... args) {
        SweepCommand cmd = new SweepCommand();
        new CommandLine(cmd).parseArgs(args);
        cmd.workDir = workDir;
        cmd.downloadUrl = url;
        return cmd;
    }

    @Test
    void missingDefaultFolderIsDownloadedAndTheSweepCanReadIt(@TempDir Path tmp) throws Exception {
        serveArchive(tmp);
        SweepCommand cmd = sweep(tmp, url(), "--epochs", "1");
        SweepConfig cfg = cmd.resolve();
        assertEquals(SweepConfig.DEFAULT_DATA, cfg.data());

        Path dir = Path.of(cmd.ensureDefaultData(cfg));
        assertEquals(tmp.resolve(SweepConfig.DEFAULT_DATA), dir);
        assertEquals(MovieLensLayout.ML_100K, MovieLensLayout.detect(new Configuration(), dir.toString()),
                "the sweep reads the downloaded folder");
        assertArrayEquals(Files.readAllBytes(tmp.resolve("source/u.data")), Files.readAllBytes(dir.resolve("u.data")));

        int before = server.requests();
        cmd.ensureDefaultData(cfg);
        assertEquals(before, server.requests(), "a present default folder must not be downloaded again");
    }

    @Test
    void offlineDownloadStopsWithExitCode2AndNamesTheCommands(@TempDir Path tmp) throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        CommandLine cli = Main.commandLine();
        SweepCommand cmd = cli.getSubcommands().get("sweep").getCommand();
        cmd.workDir = tmp;
        cmd.downloadUrl = "http://127.0.0.1:" + closedPort + "/ml-100k.zip";
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err, true));

        int exit = cli.execute("sweep", "--out", tmp.resolve("out").toString(), "--epochs", "1");
        assertEquals(2, exit, err.toString());
        String message = err.toString();
        assertTrue(message.startsWith("error: data folder " + tmp.resolve(SweepConfig.DEFAULT_DATA).toAbsolutePath()
                + " does not exist"), message);
        assertTrue(message.contains("offline"), message);
        assertTrue(message.contains("'bin/deep-retrieval download'"), message);
        assertTrue(message.contains("'bin/deep-retrieval sweep --data DIR'"), message);
        assertFalse(Files.exists(tmp.resolve(SweepConfig.DEFAULT_DATA)), "nothing half-downloaded may be left");
        assertFalse(Files.exists(tmp.resolve("out")), "no results folder before the data is there");
    }

    @Test
    void explicitDataFolderIsNeverDownloaded(@TempDir Path tmp) throws Exception {
        serveArchive(tmp);
        Path missing = tmp.resolve(SweepConfig.DEFAULT_DATA);
        SweepCommand explicit = sweep(tmp, url(), "--data", SweepConfig.DEFAULT_DATA);
        assertEquals(SweepConfig.DEFAULT_DATA, explicit.ensureDefaultData(explicit.resolve()), "passed on as given");
        assertEquals(0, server.requests(), "--data given: the reader reports the missing folder, nothing is fetched");
        assertFalse(Files.exists(missing));

        MalformedInputException e = assertThrows(MalformedInputException.class, () -> MovieLensLayout.detect(new Configuration(), missing.toString()));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test
    void otherDataFolderFromTheConfigFileIsNeverDownloaded(@TempDir Path tmp) throws Exception {
        serveArchive(tmp);
        Path conf = tmp.resolve("conf.json");
        Files.writeString(conf, "{\"data\": \"elsewhere/ml-100k\"}");
        SweepCommand cmd = sweep(tmp, url(), "--config", conf.toString());
        assertEquals("elsewhere/ml-100k", cmd.ensureDefaultData(cmd.resolve()));
        assertEquals(0, server.requests());
    }

    @Test
    void aHadoopUriIsPassedOnUntouched(@TempDir Path tmp) throws Exception {
        serveArchive(tmp);
        SweepCommand cmd = sweep(tmp, url(), "--data", "hdfs://namenode:8020/data/ml-1m");
        SweepConfig cfg = cmd.resolve();
        assertEquals("hdfs://namenode:8020/data/ml-1m", cfg.data(), "config.json records the URI as given");
        assertEquals("hdfs://namenode:8020/data/ml-1m", cmd.ensureDefaultData(cfg));
        assertEquals(0, server.requests());
    }
}
