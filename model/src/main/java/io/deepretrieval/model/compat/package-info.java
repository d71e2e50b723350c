/**
 * Every workaround this project needs for ND4J/SameDiff 1.0.0-M2.1, and nothing else: the gradient barrier
 * ({@link io.deepretrieval.model.compat.GradientBarrier}, M2.1's {@code stop_gradient} does not cut autodiff), the
 * sessions' released-array ids and their per-thread sessions
 * ({@link io.deepretrieval.model.compat.SameDiffSessions}, private fields read by reflection), closing arrays a
 * session returns ({@link io.deepretrieval.model.compat.SameDiffSessions#close}), and muting the line SameDiff prints
 * per differentiated op ({@link io.deepretrieval.model.compat.QuietStdout}). The two muted log messages (the bitcast
 * op's unmapped {@code newType} property, logged by {@code DifferentialFunction}, and the TF-import table's
 * duplicate FloorMod/Pow mappings, logged by {@code ImportClassMapping}) are filtered by their text in the log4j2
 * configurations ({@code spark-job/src/main/resources/log4j2.xml}, {@code docker/log4j2.properties}) by its text.
 * {@link io.deepretrieval.model.compat.Nd4jCompat#check} verifies at startup that the ND4J on the classpath is the
 * version these were written for and that every reflective field exists.
 */
package io.deepretrieval.model.compat;
