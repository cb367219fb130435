package dev.citadel.metadata.internal;

import java.util.Set;
import java.util.regex.Pattern;

/** Validation shared by the row records; every failure is an {@link IllegalArgumentException} naming the field. */
public final class Checks {
    /** AWS Organizations' e-mail shape: one @ with something on each side, no white space. */
    private static final Pattern EMAIL = Pattern.compile("[^\\s@]+@[^\\s@]+");

    private Checks() {
    }

    public static String matching(String field, String value, Pattern pattern) {
        if (!pattern.matcher(value).matches()) {
            throw new IllegalArgumentException(field + " must match " + pattern.pattern() + ", got '" + value + "'");
        }
        return value;
    }

    public static String oneOf(String field, String value, Set<String> allowed) {
        if (!allowed.contains(value)) {
            throw new IllegalArgumentException(field + " must be one of " + allowed.stream().sorted().toList() + ", got '" + value + "'");
        }
        return value;
    }

    public static String length(String field, String value, int min, int max) {
        if (value.length() < min || value.length() > max) {
            throw new IllegalArgumentException(field + " must be " + min + " to " + max + " characters long, got " + value.length());
        }
        return value;
    }

    public static String email(String field, String value) {
        length(field, value, 6, 64);
        if (!EMAIL.matcher(value).matches()) {
            throw new IllegalArgumentException(field + " is not an e-mail address: '" + value + "'");
        }
        return value;
    }

    public static void check(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }
}
