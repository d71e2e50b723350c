package io.deepretrieval.spark.cli;

import io.deepretrieval.spark.config.SweepConfig;
import io.deepretrieval.spark.ingest.MovieLensDownloader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

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
        Path dir = new MovieLensDownloader(url).ensure(dest);
        System.out.println("MovieLens 100k is in " + dir.toAbsolutePath());
        return 0;
    }
}
