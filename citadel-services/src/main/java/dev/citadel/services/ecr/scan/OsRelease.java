package dev.citadel.services.ecr.scan;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * {@code os-release(5)}: {@code KEY=value} lines, values optionally in single or double quotes
 * with backslash escapes inside double quotes; comments start with {@code #}. Only {@code ID},
 * {@code VERSION_ID}, {@code VERSION} and {@code PRETTY_NAME} are kept.
 */
record OsRelease(String id, String versionId, String version, String prettyName) {
    static OsRelease parse(byte[] data) {
        Map<String, String> v = new HashMap<>();
        for (String line : Text.lines(data)) {
            String l = line.strip();
            int eq = l.indexOf('=');
            if (l.startsWith("#") || eq <= 0) {
                continue;
            }
            String key = l.substring(0, eq);
            if (key.equals("ID") || key.equals("VERSION_ID") || key.equals("VERSION") || key.equals("PRETTY_NAME")) {
                v.put(key, unquote(l.substring(eq + 1)));
            }
        }
        return new OsRelease(v.getOrDefault("ID", ""), v.getOrDefault("VERSION_ID", ""), v.getOrDefault("VERSION", ""),
                v.getOrDefault("PRETTY_NAME", ""));
    }

    Optional<String> describe() {
        if (!prettyName.isEmpty()) {
            return Optional.of(prettyName);
        }
        return id.isEmpty() ? Optional.empty() : Optional.of((id + " " + versionId).strip());
    }

    private static String unquote(String s) {
        if (s.length() >= 2 && (s.charAt(0) == '"' || s.charAt(0) == '\'') && s.charAt(s.length() - 1) == s.charAt(0)) {
            String inner = s.substring(1, s.length() - 1);
            return s.charAt(0) == '"' ? inner.replaceAll("\\\\(.)", "$1") : inner;
        }
        return s;
    }
}
