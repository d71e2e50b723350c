package io.deepretrieval.spark.docs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The command lines the README, CONTRIBUTING.md and docs/*.md show in their {@code bash}, {@code sh},
 * {@code shell} and {@code console} blocks, normalised: lines ending in a backslash joined to the next, a trailing
 * {@code # comment} dropped, runs of blanks made one space; in a {@code console} block only the {@code $ } lines
 * (the rest is output).
 */
final class DocumentedCommands {
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Set<String> SHELL = Set.of("bash", "sh", "shell", "console");
    private static final Pattern FENCE = Pattern.compile("^\\s*```+\\s*([\\w-]*)");
    private static final Pattern ASSIGNMENT = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*=.*");

    private DocumentedCommands() {
    }

    /** One command line: its page (relative to the repository), the line it starts on, its block's number, its text. */
    record Command(String page, int line, int block, String text) {
        /** {@code page:line}, for messages. */
        String where() {
            return page + ":" + line;
        }

        /** Its words as the shell splits them (quotes removed, nothing expanded). */
        List<String> words() {
            return DocumentedCommands.words(text);
        }

        /** The program it runs: the first word after any {@code NAME=value} assignments ("" for assignments only). */
        String program() {
            for (String w : words()) {
                if (!ASSIGNMENT.matcher(w).matches()) {
                    return w;
                }
            }
            return "";
        }

        /** Its words from the program on (assignments before it left out). */
        List<String> programWords() {
            List<String> w = words();
            int i = 0;
            while (i < w.size() && ASSIGNMENT.matcher(w.get(i)).matches()) {
                i++;
            }
            return w.subList(i, w.size());
        }
    }

    /** The pages whose commands must run: README.md, CONTRIBUTING.md and every page directly under docs/. */
    static List<Path> pages() throws IOException {
        List<Path> pages = new ArrayList<>(List.of(ROOT.resolve("README.md"), ROOT.resolve("CONTRIBUTING.md")));
        try (Stream<Path> docs = Files.list(ROOT.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        return pages;
    }

    /** Every command of every page, page by page, in order. */
    static List<Command> all() throws IOException {
        List<Command> all = new ArrayList<>();
        int block = 0;
        for (Path page : pages()) {
            List<Command> of = of(ROOT.relativize(page).toString(), Files.readAllLines(page), block);
            all.addAll(of);
            block += 1000; // block numbers stay distinct across pages
        }
        return all;
    }

    /** The commands of one page's lines; blocks are numbered from {@code firstBlock}. */
    static List<Command> of(String page, List<String> lines, int firstBlock) {
        List<Command> commands = new ArrayList<>();
        String language = null; // null: outside a block
        int block = firstBlock;
        StringBuilder pending = null;
        int pendingLine = 0;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            Matcher fence = FENCE.matcher(line);
            if (fence.find()) {
                if (language == null) {
                    language = fence.group(1);
                    block++;
                } else {
                    language = null;
                    pending = null;
                }
                continue;
            }
            if (language == null || !SHELL.contains(language)) {
                continue;
            }
            String text = line.strip();
            if (pending == null) {
                if (language.equals("console")) {
                    if (!text.startsWith("$ ")) {
                        continue; // output
                    }
                    text = text.substring(2).strip();
                }
                if (text.isEmpty() || text.startsWith("#")) {
                    continue;
                }
                pending = new StringBuilder();
                pendingLine = i + 1;
            }
            String code = stripComment(text);
            if (code.endsWith("\\")) {
                pending.append(code, 0, code.length() - 1).append(' ');
                continue;
            }
            pending.append(code);
            commands.add(new Command(page, pendingLine, block, pending.toString().strip().replaceAll("\\s+", " ")));
            pending = null;
        }
        return commands;
    }

    /** The line without a trailing {@code # comment}: a {@code #} outside quotes at a word's start. */
    static String stripComment(String line) {
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else if (c == '\\' && quote == '"') {
                    i++;
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == '\\') {
                i++;
            } else if (c == '#' && (i == 0 || Character.isWhitespace(line.charAt(i - 1)))) {
                return line.substring(0, i).strip();
            }
        }
        return line.strip();
    }

    /** The shell's words of a line: split at blanks outside quotes, quotes removed, nothing expanded. */
    static List<String> words(String line) {
        List<String> words = new ArrayList<>();
        StringBuilder word = null;
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else if (c == '\\' && quote == '"' && i + 1 < line.length()) {
                    word.append(line.charAt(++i));
                } else {
                    word.append(c);
                }
            } else if (Character.isWhitespace(c)) {
                if (word != null) {
                    words.add(word.toString());
                    word = null;
                }
            } else {
                if (word == null) {
                    word = new StringBuilder();
                }
                if (c == '\'' || c == '"') {
                    quote = c;
                } else if (c == '\\' && i + 1 < line.length()) {
                    word.append(line.charAt(++i));
                } else {
                    word.append(c);
                }
            }
        }
        if (word != null) {
            words.add(word.toString());
        }
        return words;
    }
}
