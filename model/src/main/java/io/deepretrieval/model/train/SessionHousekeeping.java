package io.deepretrieval.model.train;

import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.InferenceSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Empties the set of released-array ids that each SameDiff 1.0.0-M2.1 inference session keeps to avoid releasing
 * an array twice within a pass: nothing ever clears it, so it grew by ~50 ids per step and session (measured:
 * 40,641 after 800 steps), a heap leak of ~3 KB per step and graph that a long training run would not survive.
 * Ids are never reused (an array taken from the cache gets a new one), so forgetting those of past passes is safe.
 * Reaches the private fields by reflection; on an ND4J without them it logs once and does nothing.
 */
final class SessionHousekeeping {
    private static final Logger LOG = LoggerFactory.getLogger(SessionHousekeeping.class);
    private static final Field SESSIONS = field(SameDiff.class, "sessions");
    private static final Field FREED_ARRAYS = field(InferenceSession.class, "freedArrays");

    private SessionHousekeeping() {
    }

    /** Clears the released-array ids of every session of {@code sd}; call between passes, not during one. */
    static void forgetReleasedArrayIds(SameDiff sd) {
        List<Set<?>> sets = releasedIdSets(sd);
        if (sets != null) {
            sets.forEach(Set::clear);
        }
    }

    /** How many released-array ids the sessions of {@code sd} hold (-1 when they cannot be read). */
    static int releasedArrayIds(SameDiff sd) {
        List<Set<?>> sets = releasedIdSets(sd);
        return sets == null ? -1 : sets.stream().mapToInt(Set::size).sum();
    }

    /** The sessions' id sets, or null when they cannot be read. */
    private static List<Set<?>> releasedIdSets(SameDiff sd) {
        if (SESSIONS == null || FREED_ARRAYS == null) {
            return null;
        }
        try {
            List<Set<?>> sets = new ArrayList<>();
            for (Object session : ((Map<?, ?>) SESSIONS.get(sd)).values()) {
                if (session instanceof InferenceSession) {
                    sets.add((Set<?>) FREED_ARRAYS.get(session));
                }
            }
            return sets;
        } catch (IllegalAccessException | ClassCastException e) {
            LOG.debug("cannot read SameDiff's released-array ids", e);
            return null;
        }
    }

    private static Field field(Class<?> owner, String name) {
        try {
            Field f = owner.getDeclaredField(name);
            f.setAccessible(true);
            return f;
        } catch (NoSuchFieldException | RuntimeException e) {
            LOG.warn("{}.{} not found: SameDiff's released-array ids are not cleared ({})", owner.getSimpleName(), name,
                    e.toString());
            return null;
        }
    }
}
