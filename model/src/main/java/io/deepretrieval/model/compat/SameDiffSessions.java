package io.deepretrieval.model.compat;

import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.InferenceSession;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What SameDiff M2.1's inference sessions keep that nothing releases. Each graph keeps one session per thread id
 * ({@code SameDiff.sessions}) and never drops one, so a graph must be run from long-lived threads; and each
 * session keeps the ids of the arrays it released ({@code InferenceSession.freedArrays}) forever: ~50 ids per step
 * (measured: 40,641 after 800 steps), a heap leak that a long training run would not survive. Ids are never reused
 * (an array taken from the cache gets a new one), so forgetting those of past passes is safe. Both fields are
 * private and read by reflection; {@link Nd4jCompat#check} verifies they exist.
 */
public final class SameDiffSessions {
    private static final Field SESSIONS = field(SameDiff.class, "sessions", Map.class);
    private static final Field FREED_ARRAYS = field(InferenceSession.class, "freedArrays", Set.class);

    private SameDiffSessions() {
    }

    /** Clears the released-array ids of every session of {@code sd}; call between passes, not during one. */
    public static void forgetReleasedArrayIds(SameDiff sd) {
        releasedIdSets(sd).forEach(Set::clear);
    }

    /** How many released-array ids the sessions of {@code sd} hold. */
    public static int releasedArrayIds(SameDiff sd) {
        return releasedIdSets(sd).stream().mapToInt(Set::size).sum();
    }

    /** How many per-thread sessions {@code sd} holds (one per thread that ever ran it). */
    public static int sessions(SameDiff sd) {
        return sessionMap(sd).size();
    }

    /**
     * Frees the native buffers of arrays fed to or returned by a session once they have been read: M2.1 frees them
     * only when the JVM collects their small on-heap owners, so a step's ~4 MB of them otherwise waited for the next
     * full collection.
     */
    public static void close(Collection<INDArray> arrays) {
        arrays.forEach(INDArray::close);
    }

    private static Map<?, ?> sessionMap(SameDiff sd) {
        try {
            return (Map<?, ?>) SESSIONS.get(sd);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot read SameDiff.sessions", e);
        }
    }

    private static List<Set<?>> releasedIdSets(SameDiff sd) {
        List<Set<?>> sets = new ArrayList<>();
        for (Object session : sessionMap(sd).values()) {
            if (session instanceof InferenceSession) {
                try {
                    sets.add((Set<?>) FREED_ARRAYS.get(session));
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException("cannot read InferenceSession.freedArrays", e);
                }
            }
        }
        return sets;
    }

    /** Missing or retyped fields, for {@link Nd4jCompat#check}. */
    static List<String> fieldProblems() {
        List<String> p = new ArrayList<>();
        if (SESSIONS == null) {
            p.add("SameDiff has no private field 'sessions' of type Map (per-thread inference sessions):"
                    + " check SameDiffSessions and TrainingStep's slice threads");
        }
        if (FREED_ARRAYS == null) {
            p.add("InferenceSession has no private field 'freedArrays' of type Set (released-array ids):"
                    + " check whether the leak it works around is fixed, then SameDiffSessions");
        }
        return p;
    }

    private static Field field(Class<?> owner, String name, Class<?> type) {
        try {
            Field f = owner.getDeclaredField(name);
            if (!type.isAssignableFrom(f.getType())) {
                return null;
            }
            f.setAccessible(true);
            return f;
        } catch (NoSuchFieldException | RuntimeException e) {
            return null;
        }
    }
}
