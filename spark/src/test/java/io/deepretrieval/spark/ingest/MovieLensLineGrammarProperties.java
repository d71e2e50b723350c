package io.deepretrieval.spark.ingest;

import io.deepretrieval.spark.ingest.MovieLensReader.BadLine;
import io.deepretrieval.spark.ingest.MovieLensReader.GenreParser;
import io.deepretrieval.spark.ingest.MovieLensReader.LineParser;
import io.deepretrieval.spark.ingest.MovieLensReader.MovieParser;
import io.deepretrieval.spark.ingest.MovieLensReader.RatingParser;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.Tuple.Tuple2;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The MovieLens line parsers against lines generated around each layout's grammar: valid lines, fields added or
 * removed, separators swapped, numbers replaced by other text (Unicode digits, control characters, numbers beyond
 * a long, empty fields, padding), titles with control characters or undecodable text, and arbitrary text. Each
 * generated field knows what the parser must make of it (the oracle); a parser either returns exactly those values
 * or throws {@link BadLine} with the expected reason, and never anything else.
 */
class MovieLensLineGrammarProperties {
    private static final int TRIES = 300;
    private static final long LATEST = 4_102_444_800L; // 2100-01-01T00:00:00Z
    /** The spec of an id: ASCII digits with an optional sign (in the long range, checked apart). */
    private static final Pattern ASCII_INTEGER = Pattern.compile("[+-]?[0-9]+");
    private static final Pattern DECIMAL = Pattern.compile("[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)");
    /** Characters that structure a line in some layout; plain generated fields avoid them. */
    private static final char[] STRUCTURE = {'\t', ':', '|', ',', '"', '\r', '\n'};

    /** A generated field: its text in the line, and the value to read from it, or the reason it must be rejected. */
    record Field(String text, Object value, String reason) {
        static Field valid(String text, Object value) {
            return new Field(text, value, null);
        }

        static Field invalid(String text, String reason) {
            return new Field(text, null, reason);
        }

        boolean isValid() {
            return reason == null;
        }

        Field text(String newText) {
            return new Field(newText, value, reason);
        }
    }

    /** Fields in order, the problem expected first (by the field's name), and how they are joined. */
    record Line(List<Field> fields, List<String> names, String separator) {
        String text() {
            return String.join(separator, fields.stream().map(Field::text).toList());
        }

        @Override
        public String toString() {
            return "Line[" + text().replace("\0", "\\0") + "]";
        }
    }

    // ---------------------------------------------------------------- ratings

    @Property(tries = TRIES)
    void ratingLinesOfTheRightShapeReadAsTheirFieldsSay(@ForAll("layouts") MovieLensLayout layout,
                                                         @ForAll("ratingFields") List<Field> fields) {
        Line line = new Line(fields, List.of("user id", "movie id", "rating", "timestamp"), layout.ratingsSeparator);
        Object[] row = parseOrReason(new RatingParser(layout), line);
        if (row != null) {
            assertEquals(fields.get(0).value(), row[0], line.toString());
            assertEquals(fields.get(1).value(), row[1], line.toString());
            assertEquals(fields.get(3).value(), row[2], line.toString());
        }
    }

    @Property(tries = TRIES)
    void ratingLinesWithFieldsAddedOrRemovedAreRejectedByCount(@ForAll("layouts") MovieLensLayout layout,
                                                               @ForAll("ratingFields") List<Field> fields,
                                                               @ForAll("fieldCountChanges") int change) {
        List<Field> changed = resize(fields, change);
        String text = String.join(layout.ratingsSeparator, changed.stream().map(Field::text).toList());
        String reason = rejected(new RatingParser(layout), text);
        assertEquals("expected 4 fields (user, movie, rating, timestamp) separated by " + layout.ratingsSeparatorName
                + ", found " + changed.size(), reason, text);
    }

    @Property(tries = TRIES)
    void ratingLinesWithAnotherLayoutsSeparatorAreRejectedByCount(@ForAll("layouts") MovieLensLayout layout,
                                                                 @ForAll("ratingFields") List<Field> fields,
                                                                 @ForAll("separators") String separator) {
        if (separator.equals(layout.ratingsSeparator) || (separator.equals(":") && layout == MovieLensLayout.ML_1M)) {
            // ':' for '::' can still split where a field is empty: only the count is certain to be wrong.
            separator = separator.equals(":") ? ";" : separator + separator;
        }
        String text = String.join(separator, fields.stream().map(Field::text).toList());
        String reason = rejected(new RatingParser(layout), text);
        assertTrue(reason.startsWith("expected 4 fields"), text + ": " + reason);
    }

    // ---------------------------------------------------------------- movies

    @Property(tries = TRIES)
    void movieLinesOfTheRightShapeReadAsTheirFieldsSay(@ForAll("layouts") MovieLensLayout layout,
                                                       @ForAll("movieIds") Field id, @ForAll("titles") Field title,
                                                       @ForAll("plainFields") List<String> rest) {
        Line line = movieLine(layout, id, title, rest);
        Object[] row = parseOrReason(new MovieParser(layout), line);
        if (row != null) {
            assertArrayEquals(new Object[]{id.value(), line.fields().get(1).value()}, row, line.toString());
        }
    }

    @Property(tries = TRIES)
    void movieLinesWithFieldsAddedOrRemovedAreRejectedByCount(@ForAll("layouts") MovieLensLayout layout,
                                                              @ForAll("movieIds") Field id, @ForAll("titles") Field title,
                                                              @ForAll("plainFields") List<String> rest,
                                                              @ForAll("fieldCountChanges") int change) {
        Line line = movieLine(layout, id, title, rest);
        List<Field> changed = resize(line.fields(), change);
        String text = String.join(line.separator(), changed.stream().map(Field::text).toList());
        for (LineParser parser : List.of(new MovieParser(layout), new GenreParser(layout))) {
            assertEquals("expected " + layout.moviesFields + " fields (" + layout.moviesFieldNames + ") separated by "
                    + layout.moviesSeparatorName + ", found " + changed.size(), rejected(parser, text), text);
        }
    }

    @Property(tries = TRIES)
    void genreFlagsOfTheHundredThousandLayoutAreZeroOrOne(@ForAll("movieIds") Field id,
                                                         @ForAll("genreFlags") List<Field> flags) {
        List<Field> fields = new ArrayList<>(List.of(id, Field.valid("Title (1995)", null),
                Field.valid("01-Jan-1995", null), Field.valid("", null), Field.valid("http://example.invalid", null)));
        fields.addAll(flags);
        List<String> names = new ArrayList<>(List.of("movie id", "title", "", "", ""));
        flags.forEach(f -> names.add("genre flag"));
        Line line = new Line(fields, names, "|");
        Object[] row = parseOrReason(new GenreParser(MovieLensLayout.ML_100K), line);
        if (row != null) {
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < flags.size(); i++) {
                if (Boolean.TRUE.equals(flags.get(i).value())) {
                    expected.add(MovieLensReader.GENRES_100K.get(i));
                }
            }
            assertEquals(id.value(), row[0], line.toString());
            assertEquals(expected, List.of((String[]) row[1]), line.toString());
        }
    }

    // ---------------------------------------------------------------- any text

    @Property(tries = TRIES)
    void anyLineIsReadOrRejectedWithAReason(@ForAll("layouts") MovieLensLayout layout, @ForAll("anyLines") String line) {
        for (LineParser parser : List.of(new RatingParser(layout), new MovieParser(layout), new GenreParser(layout))) {
            Object[] row;
            try {
                row = parser.parse(line);
            } catch (BadLine e) {
                assertNotNull(e.getMessage());
                assertFalse(e.getMessage().isBlank(), line);
                assertTrue(e.getMessage().length() < 400, "a reason quotes fields abbreviated: " + e.getMessage().length());
                continue;
            } catch (RuntimeException e) {
                throw new AssertionError(parser + " threw " + e + " instead of naming the problem, on " + line, e);
            }
            assertNotNull(row);
            assertInstanceOf(String.class, row[0], line);
            assertTrue(ASCII_INTEGER.matcher((String) row[0]).matches(), line);
        }
    }

    @Property(tries = TRIES)
    void messagesQuoteLinesAbbreviated(@ForAll("anyLines") String text, @ForAll("lineLengths") int repeat) {
        String line = text.repeat(repeat);
        String message = new MalformedInputException("u.data", 7, "some problem", line).getMessage();
        assertTrue(message.startsWith("u.data:7: some problem (line text: \""), message);
        assertTrue(message.length() <= 100 + 6 * MalformedInputException.QUOTED, message.length() + " characters");
        assertTrue(message.chars().noneMatch(c -> Character.isISOControl(c) && c != '\t'), "control characters escaped");
        if (line.length() > MalformedInputException.QUOTED) {
            assertTrue(message.endsWith("… (" + line.length() + " characters)\")"), message);
        }
    }

    // ---------------------------------------------------------------- oracle

    /** The row the parser read, after checking it was to be accepted, or null after checking the reason it gave. */
    private static Object[] parseOrReason(LineParser parser, Line line) {
        int firstBad = -1;
        for (int i = 0; i < line.fields().size() && firstBad < 0; i++) {
            firstBad = line.fields().get(i).isValid() ? -1 : i;
        }
        Object[] row;
        try {
            row = parser.parse(line.text());
        } catch (BadLine e) {
            if (firstBad < 0) {
                fail(line + " was rejected: " + e.getMessage());
            }
            Field bad = line.fields().get(firstBad);
            String name = line.names().get(firstBad);
            assertTrue(e.getMessage().contains(name) && e.getMessage().contains(bad.reason()),
                    line + ": expected a problem with the " + name + " ('" + bad.reason() + "'), got: " + e.getMessage());
            return null;
        }
        if (firstBad >= 0) {
            fail(line + " was accepted as " + List.of(row) + ", but its " + line.names().get(firstBad) + " is "
                    + line.fields().get(firstBad));
        }
        return row;
    }

    /** The reason the parser gave for rejecting {@code text}, failing if it read it or threw anything else. */
    private static String rejected(LineParser parser, String text) {
        try {
            Object[] row = parser.parse(text);
            throw new AssertionError(text + " was accepted as " + List.of(row));
        } catch (BadLine e) {
            return e.getMessage();
        }
    }

    private static Line movieLine(MovieLensLayout layout, Field id, Field title, List<String> rest) {
        if (layout == MovieLensLayout.ML_1M && title.isValid()) {
            title = Field.valid(datTitle(title.text()), datTitle(title.text()));
        }
        List<Field> fields = new ArrayList<>(List.of(id, layout == MovieLensLayout.CSV ? title.text(csv(title.text())) : title));
        for (int i = 2; i < layout.moviesFields; i++) {
            fields.add(Field.valid(rest.get(i % rest.size()), null));
        }
        List<String> names = new ArrayList<>(List.of("movie id", "title"));
        while (names.size() < fields.size()) {
            names.add("");
        }
        return new Line(fields, names, layout == MovieLensLayout.CSV ? "," : layout == MovieLensLayout.ML_1M ? "::" : "|");
    }

    /** {@code text} as a CSV field: quoted, quotes doubled, when it holds a comma or quote. */
    private static String csv(String text) {
        return text.indexOf(',') >= 0 || text.indexOf('"') >= 0 ? "\"" + text.replace("\"", "\"\"") + "\"" : text;
    }

    /** Titles keep their colons in movies.dat ("Star Trek: ..."), but never two together or one at the end. */
    private static String datTitle(String text) {
        return text.contains("::") || text.endsWith(":") ? text.replace(":", ": ") : text;
    }

    private static List<Field> resize(List<Field> fields, int change) {
        List<Field> changed = new ArrayList<>(fields);
        if (change < 0) {
            changed.remove(Math.floorMod(change, changed.size()));
            return changed;
        }
        for (int i = 0; i < change; i++) {
            changed.add(Math.min(i + 1, changed.size()), Field.valid(i % 2 == 0 ? "7" : "", null));
        }
        return changed;
    }

    // ---------------------------------------------------------------- generators

    @Provide
    Arbitrary<MovieLensLayout> layouts() {
        return Arbitraries.of(MovieLensLayout.class);
    }

    @Provide
    Arbitrary<String> separators() {
        return Arbitraries.of("\t", "::", ":", ",", "|", ";", " ");
    }

    /** How many fields to add (1 to 3) or, negative, which one to remove. */
    @Provide
    Arbitrary<Integer> fieldCountChanges() {
        return Arbitraries.integers().between(-4, 3).filter(c -> c != 0);
    }

    @Provide
    Arbitrary<Integer> lineLengths() {
        return Arbitraries.integers().between(1, 2000);
    }

    @Provide
    Arbitrary<List<Field>> ratingFields() {
        return Combinators.combine(ids(), ids(), ratings(), timestamps()).as(List::of);
    }

    @Provide
    Arbitrary<Field> movieIds() {
        return ids();
    }

    @Provide
    Arbitrary<List<String>> plainFields() {
        return plain().list().ofMinSize(1).ofMaxSize(4);
    }

    @Provide
    Arbitrary<List<Field>> genreFlags() {
        Arbitrary<Field> flag = Arbitraries.frequencyOf(
                weighted(12, Arbitraries.of(Field.valid("0", false), Field.valid("1", true), Field.valid(" 1 ", true))),
                weighted(1, Arbitraries.of(Field.invalid("2", "neither 0 nor 1"), Field.invalid("", "neither 0 nor 1"),
                        Field.invalid("x", "neither 0 nor 1"), Field.invalid("01", "neither 0 nor 1"))));
        return flag.list().ofSize(19);
    }

    /** Lines of every kind: valid ones with characters edited, structure-heavy text, and any Unicode. */
    @Provide
    Arbitrary<String> anyLines() {
        Arbitrary<String> structured = Arbitraries.strings().withChars("0123456789 \t:|,\"+-.eEN#\0\u0085\uFFFDé٣x")
                .ofMaxLength(80);
        Arbitrary<String> unicode = Arbitraries.strings().all().ofMaxLength(60);
        Arbitrary<String> edited = Combinators.combine(
                Arbitraries.of("1\t2\t3\t881250949", "1::2::3.5::881250949", "1,2,4.5,881250949",
                        "2|Café (1995)|01-Jan-1995||http://x|" + "0|".repeat(18) + "1", "2::Café (1995)::Drama",
                        "2,\"Café, The (1995)\",Drama|Comedy"),
                Arbitraries.integers().between(0, 60), Arbitraries.integers().between(0, 3),
                Arbitraries.of("", "\t", ":", "|", ",", "\"", "\0", "x", "99999999999999999999", "-", " ", "\uFFFD"))
                .as((line, at, cut, insert) -> {
                    int from = Math.min(at, line.length());
                    return line.substring(0, from) + insert + line.substring(Math.min(line.length(), from + cut));
                });
        return Arbitraries.oneOf(structured, unicode, edited);
    }

    /** Ids: valid longs (padded, signed, leading zeros) read in canonical form; anything else rejected. */
    static Arbitrary<Field> ids() {
        Arbitrary<Long> longs = Arbitraries.oneOf(Arbitraries.longs().between(0, 100_000), Arbitraries.longs());
        Arbitrary<Field> valid = Combinators.combine(longs, Arbitraries.of("", "0", "000"), Arbitraries.of("", "+"),
                        padding(), padding())
                .as((v, zeros, plus, left, right) -> {
                    String digits = Long.toString(v);
                    String sign = v < 0 ? "-" : plus;
                    return Field.valid(left + sign + zeros + digits.replace("-", "") + right, Long.toString(v));
                });
        Arbitrary<Field> beyondLong = Arbitraries.bigIntegers()
                .between(BigInteger.ONE, BigInteger.TEN.pow(30))
                .map(b -> b.add(BigInteger.valueOf(Long.MAX_VALUE)))
                .flatMap(b -> Arbitraries.of(b, b.negate().subtract(BigInteger.ONE)))
                .map(b -> Field.invalid(b.toString(), "is not an integer in the long range"));
        return Arbitraries.frequencyOf(weighted(6, valid), weighted(1, beyondLong), weighted(2, notIntegers()));
    }

    static Arbitrary<Field> notIntegers() {
        Arbitrary<String> known = Arbitraries.of("", " ", "abc", "1.5", "1e3", "0x1F", "٣", "１２", "--1", "+-1", "1 2",
                "1\0", "\0", "NaN", "∞", "12a", "\u00A05", "+", "-");
        Arbitrary<String> any = Arbitraries.strings().all().excludeChars(STRUCTURE).ofMaxLength(12);
        return Arbitraries.oneOf(known, any).filter(s -> !ASCII_INTEGER.matcher(s.strip()).matches())
                .map(s -> Field.invalid(s, "is not an integer"));
    }

    static Arbitrary<Field> ratings() {
        Arbitrary<String> valid = Arbitraries.oneOf(
                Arbitraries.of("4", "3.5", "0.5", ".5", "5.", "+4", "-1", "004.50", "10"),
                Arbitraries.integers().between(0, 100).map(i -> i / 10 + "." + i % 10));
        Arbitrary<String> invalid = Arbitraries.oneOf(
                Arbitraries.of("NaN", "Infinity", "-Infinity", "4d", "4f", "0x1p3", "1e3", "four", "", "4;5", "½", "٤",
                        "4.5.1", ".", "\0"),
                Arbitraries.strings().all().excludeChars(STRUCTURE).ofMaxLength(8)
                        .filter(s -> !DECIMAL.matcher(s.strip()).matches()));
        return Arbitraries.frequencyOf(
                weighted(5, Combinators.combine(valid, padding(), padding()).as((v, l, r) -> Field.valid(l + v + r, true))),
                weighted(1, invalid.map(s -> Field.invalid(s, "is not a number"))));
    }

    static Arbitrary<Field> timestamps() {
        Arbitrary<Field> valid = Combinators.combine(
                        Arbitraries.oneOf(Arbitraries.longs().between(0, LATEST), Arbitraries.of(0L, LATEST, 881250949L)),
                        padding(), padding())
                .as((t, l, r) -> Field.valid(l + t + r, t));
        Arbitrary<Field> early = Arbitraries.longs().between(Long.MIN_VALUE, -1)
                .map(t -> Field.invalid(Long.toString(t), "is before 1970-01-01"));
        Arbitrary<Field> late = Arbitraries.longs().between(LATEST + 1, Long.MAX_VALUE)
                .map(t -> Field.invalid(Long.toString(t), "is after 2100-01-01"));
        Arbitrary<Field> beyondLong = Arbitraries.of("9223372036854775808", "-9223372036854775809", "1".repeat(40))
                .map(s -> Field.invalid(s, "is not an integer in the long range"));
        return Arbitraries.frequencyOf(weighted(6, valid), weighted(1, early), weighted(1, late),
                weighted(1, beyondLong), weighted(1, Arbitraries.of("2020-01-01", "", "881250949.5", "٣")
                        .map(s -> Field.invalid(s, "is not an integer"))));
    }

    /** Titles: any non-blank text without control characters or U+FFFD is a title, kept as written. */
    @Provide
    Arbitrary<Field> titles() {
        Arbitrary<Field> valid = Arbitraries.oneOf(
                        Arbitraries.of("Toy Story (1995)", "Café, The (1995)", "Star Trek: The Motion Picture (1979)",
                                " Padded (1990) ", "\"Quoted\" (2001)", "Łódź 東京 (2003)", "#1 (2000)"),
                        Arbitraries.strings().all().ofMinLength(1).ofMaxLength(30))
                .map(t -> t.replaceAll("[\\x00-\\x1F\\x7F-\\x9F\\uFFFD|\\t]", "x"))
                .map(t -> t.isBlank() ? "x" + t : t)
                .map(t -> Field.valid(t, t));
        Arbitrary<Field> invalid = Arbitraries.of(
                Field.invalid("", "empty title"), Field.invalid("   ", "empty title"),
                Field.invalid("Tit\0le (1990)", "control character U+0000"),
                Field.invalid("A\u0001B", "control character U+0001"),
                Field.invalid("Delete\u007F", "control character U+007F"),
                Field.invalid("Next\u0085Line", "control character U+0085"),
                Field.invalid("Caf\uFFFD (1995)", "not valid text in the expected encoding"));
        return Arbitraries.frequencyOf(weighted(5, valid), weighted(1, invalid));
    }

    /** Text without any layout's structure characters, for the fields the movie parser does not read. */
    static Arbitrary<String> plain() {
        return Arbitraries.oneOf(Arbitraries.of("", "01-Jan-1995", "http://example.invalid", "0", "1", "Drama|Comedy"),
                        Arbitraries.strings().all().excludeChars(STRUCTURE).ofMaxLength(10))
                .map(s -> s.replace("|", ""));
    }

    /** Whitespace that {@link String#strip()} removes around a number. */
    static Arbitrary<String> padding() {
        return Arbitraries.frequency(Tuple.of(8, ""), Tuple.of(1, " "), Tuple.of(1, "\u2003 "));
    }

    private static <T> Tuple2<Integer, Arbitrary<? extends T>> weighted(int weight, Arbitrary<? extends T> values) {
        return Tuple.of(weight, values);
    }
}
