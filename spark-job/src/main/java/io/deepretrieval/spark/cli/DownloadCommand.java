package io.deepretrieval.spark.cli;

import io.deepretrieval.spark.config.SweepConfig;
import io.deepretrieval.spark.ingest.MovieLensDownloader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code download}: fetch MovieLens 100k from GroupLens, verify and unpack it. */
@Command(name = "download", mixinStandardHelpOptions = true,
        description = "Download MovieLens 100k from GroupLens (checked against its published MD5) into a folder.")
final class DownloadCommand implements Callable<Integer> {
    @Option(names = "--dest", defaultValue = SweepConfig.DEFAULT_DATA, description = "target folder (default: ${DEFAULT-VALUE})")
    Path dest;

    @Option(names = "--url", defaultValue = MovieLensDownloader.GROUPLENS_URL, description = "archive URL (default: ${DEFAULT-VALUE})")
    String url;

    @Override
    public Integer call() throws Exception {
        checkUrl(url);
        Path dir = new MovieLensDownloader(url).ensure(dest);
        System.out.println("MovieLens 100k is in " + dir.toAbsolutePath());
        return 0;
    }

    /** Fails unless {@code url} is an absolute http(s) URL, the only kind the downloader fetches. */
    static void checkUrl(String url) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("--url " + url + ": not a URL (" + e.getMessage() + ")", e);
        }
        String scheme = uri.getScheme();
        if (!("http".equalsIgnoreCase(scheme) || "https".equalsIgnoreCase(scheme)) || uri.getHost() == null) {
            throw new IllegalArgumentException("--url " + url + ": must be an http:// or https:// URL");
        }
    }
}
