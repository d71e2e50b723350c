package io.deepretrieval.spark.cluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A minimal SPARK_HOME for tests: a {@code jars/} folder linking Spark's jars from the Maven repository. Spark's
 * workers build executor classpaths from {@code $SPARK_HOME/jars}.
 */
final class SparkHome {
    private SparkHome() {
    }

    static Path create(Path dir, Path classpathFile) throws IOException {
        Path jars = Files.createDirectories(dir.resolve("jars"));
        for (String entry : Files.readString(classpathFile).strip().split(java.io.File.pathSeparator)) {
            Path jar = Path.of(entry);
            if (entry.endsWith(".jar") && Files.isRegularFile(jar)) {
                Path link = jars.resolve(jar.getFileName());
                if (!Files.exists(link)) {
                    Files.createSymbolicLink(link, jar.toAbsolutePath());
                }
            }
        }
        // Spark's launcher takes $SPARK_HOME/jars only in a release layout, which a RELEASE file marks.
        Files.writeString(dir.resolve("RELEASE"), "Spark for deep-retrieval tests\n");
        // Workers and executors log through Spark's defaults unless told otherwise: keep them at WARN.
        Path conf = Files.createDirectories(dir.resolve("conf"));
        Files.writeString(conf.resolve("log4j2.properties"), String.join("\n",
                "rootLogger.level = warn", "rootLogger.appenderRef.stdout.ref = console",
                "appender.console.type = Console", "appender.console.name = console",
                "appender.console.layout.type = PatternLayout",
                "appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n",
                "logger.master.name = org.apache.spark.deploy", "logger.master.level = info",
                "logger.dr.name = io.deepretrieval", "logger.dr.level = info",
                "logger.progress.name = progress", "logger.progress.level = info", ""));
        return dir;
    }
}
