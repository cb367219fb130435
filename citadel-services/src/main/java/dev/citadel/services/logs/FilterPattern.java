package dev.citadel.services.logs;

import dev.citadel.core.AwsException;
import java.util.ArrayList;
import java.util.List;

/**
 * CloudWatch Logs' filter patterns for unstructured log events, the subset Citadel implements:
 * terms separated by spaces, all of which must occur in the message ({@code ERROR timeout});
 * double-quoted phrases, which may hold spaces and any character ({@code "Exception: disk full"},
 * with {@code \"} and {@code \\} inside); {@code ?term} terms, of which at least one must occur
 * ({@code ?ERROR ?WARN}); and {@code -term} terms, none of which may occur
 * ({@code ERROR -Retrying}). Matching is case-sensitive and by substring. An empty pattern matches
 * every event. JSON patterns ({@code { $.level = "ERROR" }}), space-delimited patterns
 * ({@code [ip, user, ...]}) and regular expressions ({@code %…%}) are refused as not supported.
 */
public final class FilterPattern {
    /** The longest pattern CloudWatch accepts. */
    static final int MAX_LENGTH = 1024;
    private static final FilterPattern ALL = new FilterPattern(List.of(), List.of(), List.of());

    private final List<String> required;
    private final List<String> anyOf;
    private final List<String> excluded;

    private FilterPattern(List<String> required, List<String> anyOf, List<String> excluded) {
        this.required = List.copyOf(required);
        this.anyOf = List.copyOf(anyOf);
        this.excluded = List.copyOf(excluded);
    }

    /** Parses a pattern; throws InvalidParameterException for what is malformed or not supported. */
    public static FilterPattern parse(String pattern) {
        if (pattern.length() > MAX_LENGTH) {
            throw invalid("The filter pattern is longer than " + MAX_LENGTH + " characters.");
        }
        String p = pattern.strip();
        if (p.isEmpty()) {
            return ALL;
        }
        char first = p.charAt(0);
        if (first == '{' || first == '[' || first == '%') {
            throw invalid("Only unstructured filter patterns are supported (terms, \"quoted phrases\", ?term and -term); JSON, "
                    + "space-delimited and regular-expression patterns are not supported.");
        }
        List<String> required = new ArrayList<>();
        List<String> anyOf = new ArrayList<>();
        List<String> excluded = new ArrayList<>();
        int i = 0;
        while (i < p.length()) {
            char c = p.charAt(i);
            if (c == ' ' || c == '\t') {
                i++;
                continue;
            }
            List<String> target = required;
            if (c == '?' || c == '-') {
                target = c == '?' ? anyOf : excluded;
                i++;
                if (i == p.length() || p.charAt(i) == ' ' || p.charAt(i) == '\t') {
                    throw invalid("Invalid filter pattern: '" + c + "' must be followed by a term.");
                }
            }
            StringBuilder term = new StringBuilder();
            if (p.charAt(i) == '"') {
                i++;
                boolean closed = false;
                while (i < p.length()) {
                    char d = p.charAt(i++);
                    if (d == '\\' && i < p.length() && (p.charAt(i) == '"' || p.charAt(i) == '\\')) {
                        term.append(p.charAt(i++));
                    } else if (d == '"') {
                        closed = true;
                        break;
                    } else {
                        term.append(d);
                    }
                }
                if (!closed) {
                    throw invalid("Invalid filter pattern: a quoted phrase is not closed.");
                }
                if (i < p.length() && p.charAt(i) != ' ' && p.charAt(i) != '\t') {
                    throw invalid("Invalid filter pattern: a quoted phrase must be followed by a space.");
                }
            } else {
                while (i < p.length() && p.charAt(i) != ' ' && p.charAt(i) != '\t') {
                    char d = p.charAt(i++);
                    if (d == '"') {
                        throw invalid("Invalid filter pattern: a quote inside a term; quote the whole term.");
                    }
                    term.append(d);
                }
            }
            if (term.isEmpty()) {
                throw invalid("Invalid filter pattern: an empty quoted phrase.");
            }
            target.add(term.toString());
        }
        return new FilterPattern(required, anyOf, excluded);
    }

    /** Whether an event's message matches. */
    public boolean matches(String message) {
        for (String t : required) {
            if (!message.contains(t)) {
                return false;
            }
        }
        for (String t : excluded) {
            if (message.contains(t)) {
                return false;
            }
        }
        if (anyOf.isEmpty()) {
            return true;
        }
        for (String t : anyOf) {
            if (message.contains(t)) {
                return true;
            }
        }
        return false;
    }

    /** The pattern matches every event. */
    public boolean matchesAll() {
        return required.isEmpty() && anyOf.isEmpty() && excluded.isEmpty();
    }

    @Override
    public String toString() {
        return "FilterPattern[required=" + required + ", anyOf=" + anyOf + ", excluded=" + excluded + "]";
    }

    private static AwsException invalid(String message) {
        return new AwsException(LogsService.INVALID, 400, message);
    }
}
