package dev.citadel.metadata.iam;

import dev.citadel.metadata.internal.Checks;
import java.util.Locale;
import java.util.regex.Pattern;

/** The shapes IAM gives names, paths and unique ids, and the case-insensitive key names are unique by. */
final class IamNames {
    static final Pattern NAME = Pattern.compile("[\\w+=,.@-]{1,64}");
    static final Pattern PATH = Pattern.compile("/|/[\\x21-\\x7E]{1,510}/");
    static final Pattern PATH_PREFIX = Pattern.compile("/[\\x21-\\x7E]{0,511}");

    private IamNames() {
    }

    static String key(String name) {
        return name.toLowerCase(Locale.ROOT);
    }

    static String uniqueId(String field, String value, String prefix) {
        Checks.check(value.startsWith(prefix) && value.length() >= 16 && value.length() <= 128
                && value.chars().allMatch(c -> (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')),
                field + " must be " + prefix + " followed by upper-case letters and digits, 16 to 128 characters in all");
        return value;
    }
}
