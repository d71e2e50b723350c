package io.deepretrieval.spark;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.net.URI;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The local disk under the made-up scheme {@value #SCHEME}: {@code testfs:///x} is the local {@code /x}. Code that
 * reads such a URI can only have gone through Hadoop's {@link org.apache.hadoop.fs.FileSystem} ({@code java.nio}
 * knows no such scheme), and the counters show that it did.
 */
public class TestFileSystem extends RawLocalFileSystem {
    public static final String SCHEME = "testfs";
    private static final URI NAME = URI.create(SCHEME + ":///");
    /** getFileStatus calls (existence checks) and opened files, over every instance. */
    public static final AtomicInteger STATUS_CALLS = new AtomicInteger();
    public static final AtomicInteger OPENS = new AtomicInteger();

    /** Registers the scheme in the session's Hadoop configuration (what {@code spark.hadoop.fs.testfs.impl} does). */
    public static SparkSession register(SparkSession spark) {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        conf.set("fs." + SCHEME + ".impl", TestFileSystem.class.getName());
        // Each test sees a fresh instance with the current settings.
        conf.setBoolean("fs." + SCHEME + ".impl.disable.cache", true);
        return spark;
    }

    /** {@code testfs:///} + the local absolute path. */
    public static String uri(java.nio.file.Path local) {
        return SCHEME + "://" + local.toAbsolutePath();
    }

    // RawLocalFileSystem resolves paths with pathToFile, which first checks (FileSystem.checkPath) that the path's
    // scheme is getUri()'s and then takes the URI's path part, so overriding the URI is what maps testfs:///x to /x;
    // a file: path handed to this filesystem fails that check ("Wrong FS").
    @Override
    public URI getUri() {
        return NAME;
    }

    @Override
    public String getScheme() {
        return SCHEME;
    }

    @Override
    public void initialize(URI uri, Configuration conf) throws IOException {
        if (!SCHEME.equals(uri.getScheme())) {
            throw new IOException("TestFileSystem serves " + SCHEME + ": URIs, not " + uri);
        }
        super.initialize(uri, conf);
    }

    @Override
    public FileStatus getFileStatus(Path f) throws IOException {
        STATUS_CALLS.incrementAndGet();
        return super.getFileStatus(f);
    }

    @Override
    public FSDataInputStream open(Path f, int bufferSize) throws IOException {
        OPENS.incrementAndGet();
        return super.open(f, bufferSize);
    }
}
