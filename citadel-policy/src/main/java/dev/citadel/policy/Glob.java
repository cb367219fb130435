package dev.citadel.policy;

/**
 * IAM's wildcard matching: {@code *} matches any run of characters (also none, also across
 * {@code :} and {@code /}), {@code ?} matches exactly one. Actions compare without regard to case;
 * resources and ARNs with it. Linear-time matching with backtracking on the last star only, so no
 * pattern can make a match slow.
 */
public final class Glob {
    private Glob() {
    }

    public static boolean matches(String pattern, String value, boolean ignoreCase) {
        int p = 0;
        int v = 0;
        int star = -1;
        int mark = 0;
        while (v < value.length()) {
            if (p < pattern.length() && (pattern.charAt(p) == '?' || same(pattern.charAt(p), value.charAt(v), ignoreCase))) {
                p++;
                v++;
            } else if (p < pattern.length() && pattern.charAt(p) == '*') {
                star = p++;
                mark = v;
            } else if (star >= 0) {
                p = star + 1;
                v = ++mark;
            } else {
                return false;
            }
        }
        while (p < pattern.length() && pattern.charAt(p) == '*') {
            p++;
        }
        return p == pattern.length();
    }

    private static boolean same(char a, char b, boolean ignoreCase) {
        return a == b || (ignoreCase && Character.toLowerCase(a) == Character.toLowerCase(b));
    }
}
