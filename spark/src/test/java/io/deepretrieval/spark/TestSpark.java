package io.deepretrieval.spark;

import org.apache.spark.sql.SparkSession;

/** One local Spark session shared by the tests of this JVM (a session takes seconds to start). */
public final class TestSpark {
    private TestSpark() {
    }

    public static synchronized SparkSession session() {
        SparkSession active = SparkSession.getDefaultSession().isDefined() ? SparkSession.getDefaultSession().get() : null;
        if (active != null && !active.sparkContext().isStopped()) {
            return active;
        }
        return SparkSessions.create("local[2]", "deep-retrieval tests");
    }
}
