package io.deepretrieval.spark.train;

import io.deepretrieval.model.io.NativeThreads;

import java.io.Serializable;

/**
 * Settings of parameter averaging across Spark executors.
 *
 * @param workers            number of training partitions (one model replica each)
 * @param batchSizePerWorker minibatch of each replica; also its number of in-batch negatives
 * @param averagingFrequency minibatches each replica trains between two averagings
 * @param repartition        shuffle the training rows into {@code workers} balanced partitions (else coalesce)
 * @param storageLevel       Spark storage level of the cached training partitions, e.g. MEMORY_ONLY
 * @param nativeThreads      ND4J op/BLAS threads per training task ({@link NativeThreads}); 0: ND4J's default
 */
public record DistributedOptions(int workers, int batchSizePerWorker, int averagingFrequency, boolean repartition,
                                 String storageLevel, int nativeThreads) implements Serializable {
    public DistributedOptions {
        if (nativeThreads < 0) {
            throw new IllegalArgumentException("nativeThreads must be >= 0, got " + nativeThreads);
        }
        if (workers < 1) {
            throw new IllegalArgumentException("workers must be >= 1, got " + workers);
        }
        if (batchSizePerWorker < 1) {
            throw new IllegalArgumentException("batchSizePerWorker must be >= 1, got " + batchSizePerWorker);
        }
        if (averagingFrequency < 1) {
            throw new IllegalArgumentException("averagingFrequency must be >= 1, got " + averagingFrequency);
        }
        org.apache.spark.storage.StorageLevel.fromString(storageLevel); // throws on an unknown level
    }
}
