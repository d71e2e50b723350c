package io.deepretrieval.model.features;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TimestampBucketsTest {
    private final double[] boundaries = TimestampBuckets.linspace(100, 200, 5); // 100, 125, 150, 175, 200

    @Test
    void linspaceIncludesBothEnds() {
        assertArrayEquals(new double[]{100, 125, 150, 175, 200}, boundaries, 1e-12);
        assertEquals(1000, TimestampBuckets.linspace(874724710, 893286638, 1000).length);
        assertThrows(IllegalArgumentException.class, () -> TimestampBuckets.linspace(0, 1, 1));
    }

    @Test
    void valueEqualToABoundaryFallsInTheBucketItStarts() {
        assertEquals(2, TimestampBuckets.bucket(boundaries, 125));
        assertEquals(3, TimestampBuckets.bucket(boundaries, 150));
    }

    @Test
    void valuesBetweenBoundaries() {
        assertEquals(1, TimestampBuckets.bucket(boundaries, 124.9));
        assertEquals(2, TimestampBuckets.bucket(boundaries, 149));
    }

    @Test
    void minimumAndMaximumTimestamps() {
        // The smallest timestamp equals the first boundary: bucket 1. The largest equals the last: the top bucket.
        assertEquals(1, TimestampBuckets.bucket(boundaries, 100));
        assertEquals(5, TimestampBuckets.bucket(boundaries, 200));
        double[] ml = TimestampBuckets.linspace(874724710, 893286638, 1000);
        assertEquals(1, TimestampBuckets.bucket(ml, 874724710));
        assertEquals(1000, TimestampBuckets.bucket(ml, 893286638));
    }

    @Test
    void outsideTheFittedRange() {
        assertEquals(0, TimestampBuckets.bucket(boundaries, 99));
        assertEquals(5, TimestampBuckets.bucket(boundaries, 10_000));
    }

    @Test
    void repeatedBoundariesOfAZeroRange() {
        double[] flat = TimestampBuckets.linspace(7, 7, 3);
        assertEquals(3, TimestampBuckets.bucket(flat, 7));
        assertEquals(0, TimestampBuckets.bucket(flat, 6));
    }
}
