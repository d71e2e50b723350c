package io.deepretrieval.spark.ml;

import org.apache.spark.ml.param.Param;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The estimator guide's param tables cannot drift from the code: every param of {@link TwoTowerRetrieval} appears in
 * docs/estimator.md with its real default, either in the table headed {@code | param | default |} (rows
 * {@code | `a`, `b` | 1, 2 | ...}) or in the one headed {@code | key / param |} (rows {@code | `name` (default) |});
 * and every name those rows give is a param.
 */
class ParamTableTest {
    private static final Path GUIDE = Path.of("..", "docs", "estimator.md");
    private static final Pattern NAMES_AND_DEFAULTS = Pattern.compile("^\\| ((?:`\\w+`(?:, )?)+) \\| ([^|]+) \\|");
    private static final Pattern NAME_WITH_DEFAULT = Pattern.compile("^\\| `(\\w+)` \\(([^)]*)\\) \\|");

    /** Each param name the guide's tables document, with the default as written there. */
    static Map<String, String> documented() throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        boolean inParamsTable = false;
        boolean inKeysTable = false;
        for (String line : Files.readAllLines(GUIDE)) {
            if (line.startsWith("| param | default |")) {
                inParamsTable = true;
            } else if (line.startsWith("| key / param |")) {
                inKeysTable = true;
            } else if (!line.startsWith("|")) {
                inParamsTable = false;
                inKeysTable = false;
            }
            Matcher pair = NAME_WITH_DEFAULT.matcher(line);
            if (inKeysTable && pair.find()) {
                out.put(pair.group(1), pair.group(2).strip());
                continue;
            }
            Matcher row = NAMES_AND_DEFAULTS.matcher(line);
            if (!inParamsTable || !row.find()) {
                continue;
            }
            List<String> names = new ArrayList<>();
            Matcher name = Pattern.compile("`(\\w+)`").matcher(row.group(1));
            while (name.find()) {
                names.add(name.group(1));
            }
            String defaults = row.group(2).strip();
            // One name takes the whole cell (an array default has commas of its own); several split it.
            List<String> values = names.size() == 1 ? List.of(defaults) : Arrays.asList(defaults.split(", "));
            assertEquals(names.size(), values.size(), "one default per param in: " + line);
            for (int i = 0; i < names.size(); i++) {
                out.put(names.get(i), values.get(i).strip());
            }
        }
        return out;
    }

    @Test
    void everyParamIsInTheGuideWithItsRealDefault() throws IOException {
        Map<String, String> documented = documented();
        TwoTowerRetrieval estimator = new TwoTowerRetrieval();
        List<String> params = new ArrayList<>();
        for (Param<?> p : estimator.params()) {
            params.add(p.name());
            assertTrue(documented.containsKey(p.name()), p.name() + " is missing from the tables of " + GUIDE);
            assertTrue(estimator.getDefault(p).isDefined(), p.name() + " has a default");
            String doc = documented.get(p.name());
            assertTrue(matches(estimator.getDefault(p).get(), doc), p.name() + ": the guide says '" + doc
                    + "', the default is " + render(estimator.getDefault(p).get()));
        }
        List<String> stale = documented.keySet().stream().filter(n -> !params.contains(n)).toList();
        assertEquals(List.of(), stale, "documented as params but not params of TwoTowerRetrieval");
        assertTrue(params.size() > 35, params.size() + " params");
    }

    private static boolean matches(Object value, String doc) {
        String text = doc.replace("`", "").replaceAll(" \\(off\\)$", "").strip();
        boolean empty = text.startsWith("empty");
        if (value instanceof String s) {
            return empty ? s.isEmpty() : s.equals(text);
        }
        if (value instanceof String[] a) {
            return empty ? a.length == 0 : Arrays.asList(a).equals(Arrays.asList(text.split(", ")));
        }
        if (value instanceof int[] a) {
            String list = text.replace("[", "").replace("]", "");
            return Arrays.equals(a, Arrays.stream(list.split(",")).map(String::strip).mapToInt(Integer::parseInt).toArray());
        }
        if (value instanceof Boolean b) {
            return b.toString().equals(text);
        }
        if (value instanceof Number n) {
            return n.doubleValue() == Double.parseDouble(text);
        }
        throw new AssertionError("a default of type " + value.getClass());
    }

    private static String render(Object value) {
        return value instanceof int[] a ? Arrays.toString(a) : value instanceof String[] a ? Arrays.toString(a)
                : String.valueOf(value);
    }
}
