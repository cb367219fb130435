package dev.citadel.services.ecr.scan;

import java.util.List;

/**
 * Alpine's version order (apk-tools 2.14 and 3, {@code apk version -t}).
 *
 * <p>A version is {@code digits{.digits}...{letter}{_suffix{digits}}...{~hash}{-r<digits>}}, read
 * as tokens in that order (any other order, character or suffix makes it invalid). Two versions
 * compare token by token while their tokens are of the same kind: numbers as numbers — except a
 * component after a dot that starts with {@code 0} on either side, which compares as a string
 * ({@code 1.01 < 1.1}, {@code 1.05 < 1.1}) — letters and hashes as strings, suffixes in the order
 * {@code alpha < beta < pre < rc < (none) < cvs < svn < git < hg < p}. Where the kinds differ, a
 * pre-release suffix makes its side smaller; otherwise the side whose token comes later in the
 * grammar (or that has ended) is smaller: {@code 1.0_rc1 < 1.0 < 1.0-r1 < 1.0_p1 < 1.0.1}.
 */
final class ApkVersion {
    static final VersionScheme SCHEME = new VersionScheme() {
        @Override
        public int compare(String a, String b) {
            return ApkVersion.compare(a, b);
        }

        @Override
        public boolean valid(String version) {
            return ApkVersion.valid(version);
        }
    };

    private static final int INITIAL_DIGIT = 0;
    private static final int DIGIT = 1;
    private static final int LETTER = 2;
    private static final int SUFFIX = 3;
    private static final int SUFFIX_NO = 4;
    private static final int COMMIT_HASH = 5;
    private static final int REVISION_NO = 6;
    private static final int END = 7;
    private static final int INVALID = 8;
    /** Suffixes in their order; "" stands for no suffix, between the pre-release and the post-release ones. */
    private static final List<String> SUFFIXES = List.of("alpha", "beta", "pre", "rc", "", "cvs", "svn", "git", "hg", "p");
    private static final int NO_SUFFIX = SUFFIXES.indexOf("");

    private ApkVersion() {
    }

    /** The token at the reader's position: its kind, its text and, for a suffix, its rank. */
    private static final class Reader {
        final String s;
        int pos;
        int token;
        String value = "";
        int suffix;

        Reader(String s) {
            this.s = s;
            this.token = INITIAL_DIGIT;
            digits();
        }

        private void digits() {
            int start = pos;
            while (pos < s.length() && isDigit(s.charAt(pos))) {
                pos++;
            }
            value = s.substring(start, pos);
            if (value.isEmpty()) {
                token = INVALID;
            }
        }

        private String run(boolean hex) {
            int start = pos;
            while (pos < s.length() && (hex ? isHex(s.charAt(pos)) : isLower(s.charAt(pos)))) {
                pos++;
            }
            return s.substring(start, pos);
        }

        void next() {
            if (pos >= s.length()) {
                token = END;
                return;
            }
            char c = s.charAt(pos);
            if (isLower(c)) {
                if (token > DIGIT) {
                    token = INVALID;
                    return;
                }
                value = String.valueOf(c);
                token = LETTER;
                pos++;
            } else if (c == '.' || isDigit(c)) {
                if (c == '.') {
                    if (token > DIGIT) {
                        token = INVALID;
                        return;
                    }
                    pos++;
                }
                if (token == INITIAL_DIGIT || token == DIGIT) {
                    token = DIGIT;
                } else if (token == SUFFIX) {
                    token = SUFFIX_NO;
                } else {
                    token = INVALID;
                    return;
                }
                digits();
            } else if (c == '_') {
                if (token > SUFFIX_NO) {
                    token = INVALID;
                    return;
                }
                pos++;
                value = run(false);
                suffix = value.isEmpty() ? -1 : SUFFIXES.indexOf(value);
                token = suffix < 0 || suffix == NO_SUFFIX ? INVALID : SUFFIX;
            } else if (c == '~') {
                if (token >= COMMIT_HASH) {
                    token = INVALID;
                    return;
                }
                pos++;
                value = run(true);
                token = value.isEmpty() ? INVALID : COMMIT_HASH;
            } else if (c == '-' && token < REVISION_NO && pos + 1 < s.length() && s.charAt(pos + 1) == 'r') {
                pos += 2;
                token = REVISION_NO;
                digits();
            } else {
                token = INVALID;
            }
        }
    }

    static int compare(String a, String b) {
        Reader ra = new Reader(a);
        Reader rb = new Reader(b);
        while (ra.token == rb.token && ra.token < END) {
            int c = compareTokens(ra, rb);
            if (c != 0) {
                return c;
            }
            ra.next();
            rb.next();
        }
        if (ra.token == rb.token) {
            return 0;
        }
        if (ra.token == SUFFIX && ra.suffix < NO_SUFFIX) {
            return -1;
        }
        if (rb.token == SUFFIX && rb.suffix < NO_SUFFIX) {
            return 1;
        }
        return ra.token > rb.token ? -1 : 1;
    }

    private static int compareTokens(Reader a, Reader b) {
        return switch (a.token) {
            case DIGIT -> a.value.charAt(0) == '0' || b.value.charAt(0) == '0' ? Integer.signum(a.value.compareTo(b.value))
                    : DebianVersion.compareNumbers(a.value, b.value);
            case INITIAL_DIGIT, SUFFIX_NO, REVISION_NO -> DebianVersion.compareNumbers(a.value, b.value);
            case SUFFIX -> Integer.compare(a.suffix, b.suffix);
            default -> Integer.signum(a.value.compareTo(b.value));
        };
    }

    static boolean valid(String v) {
        if (v == null || v.length() > Package.MAX_FIELD) {
            return false;
        }
        Reader r = new Reader(v);
        while (r.token < END) {
            r.next();
        }
        return r.token == END;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static boolean isLower(char c) {
        return c >= 'a' && c <= 'z';
    }

    private static boolean isHex(char c) {
        return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F';
    }
}
