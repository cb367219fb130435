package dev.citadel.services.ecr.scan;

/**
 * Debian's version order (Debian Policy §5.6.12; {@code dpkg --compare-versions}).
 *
 * <p>A version is {@code [epoch:]upstream[-revision]}: the epoch is the digits before the first
 * colon (0 when absent), the revision what follows the last hyphen (empty when there is none).
 * Epochs compare as numbers; upstream parts, then revisions, compare by alternating runs: first
 * the longest run of non-digits, character by character, where {@code ~} sorts before everything
 * (even the end of the string), then the end of the string, then letters, then all other
 * characters; then the longest run of digits, as a number (an absent run is 0). So
 * {@code 1.0~rc1 < 1.0 < 1.0a < 1.0+b1 < 1.0.1}, and {@code 1.0 = 1.0-0}.
 *
 * <p>Valid ({@link #valid}): an epoch of digits, an upstream part that starts with a digit and has
 * only letters, digits and {@code . + ~ - :} (the hyphen only when there is a revision, the colon
 * only when there is an epoch), a non-empty revision of letters, digits and {@code . + ~}. Invalid
 * strings compare as if their epoch were 0 and the rest upstream.
 */
final class DebianVersion {
    static final VersionScheme SCHEME = new VersionScheme() {
        @Override
        public int compare(String a, String b) {
            return DebianVersion.compare(a, b);
        }

        @Override
        public boolean valid(String version) {
            return DebianVersion.valid(version);
        }
    };

    private DebianVersion() {
    }

    private record Parts(String epoch, String upstream, String revision) {
    }

    private static Parts split(String v) {
        String epoch = "0";
        String rest = v;
        int colon = v.indexOf(':');
        if (colon > 0 && allDigits(v, 0, colon)) {
            epoch = v.substring(0, colon);
            rest = v.substring(colon + 1);
        }
        int hyphen = rest.lastIndexOf('-');
        if (hyphen < 0) {
            return new Parts(epoch, rest, "");
        }
        return new Parts(epoch, rest.substring(0, hyphen), rest.substring(hyphen + 1));
    }

    static int compare(String a, String b) {
        Parts pa = split(a);
        Parts pb = split(b);
        int c = compareNumbers(pa.epoch, pb.epoch);
        if (c != 0) {
            return c;
        }
        c = compareParts(pa.upstream, pb.upstream);
        return c != 0 ? c : compareParts(pa.revision, pb.revision);
    }

    static boolean valid(String v) {
        if (v == null || v.isEmpty() || v.length() > Package.MAX_FIELD) {
            return false;
        }
        int colon = v.indexOf(':');
        if (colon == 0 || colon > 0 && !allDigits(v, 0, colon)) {
            return false;
        }
        Parts p = split(v);
        boolean hasRevision = v.lastIndexOf('-') > colon;
        String up = p.upstream;
        if (up.isEmpty() || !digit(up.charAt(0))) {
            return false;
        }
        for (int i = 0; i < up.length(); i++) {
            char c = up.charAt(i);
            boolean ok = alnum(c) || c == '.' || c == '+' || c == '~' || c == '-' && hasRevision || c == ':' && colon > 0;
            if (!ok) {
                return false;
            }
        }
        if (hasRevision && p.revision.isEmpty()) {
            return false;
        }
        for (int i = 0; i < p.revision.length(); i++) {
            char c = p.revision.charAt(i);
            if (!alnum(c) && c != '.' && c != '+' && c != '~') {
                return false;
            }
        }
        return true;
    }

    private static boolean alnum(char c) {
        return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z';
    }

    private static boolean allDigits(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return to > from;
    }

    private static boolean digit(char c) {
        return c >= '0' && c <= '9';
    }

    /** The weight of the character at {@code i} in a non-digit run (dpkg's {@code order}). */
    private static int order(String s, int i) {
        if (i >= s.length()) {
            return 0;
        }
        char c = s.charAt(i);
        if (digit(c)) {
            return 0;
        }
        if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
            return c;
        }
        if (c == '~') {
            return -1;
        }
        return c + 256;
    }

    /** dpkg's {@code verrevcmp}. */
    private static int compareParts(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() || j < b.length()) {
            while (i < a.length() && !digit(a.charAt(i)) || j < b.length() && !digit(b.charAt(j))) {
                int ac = order(a, i);
                int bc = order(b, j);
                if (ac != bc) {
                    return Integer.signum(ac - bc);
                }
                i++;
                j++;
            }
            while (i < a.length() && a.charAt(i) == '0') {
                i++;
            }
            while (j < b.length() && b.charAt(j) == '0') {
                j++;
            }
            int firstDiff = 0;
            while (i < a.length() && digit(a.charAt(i)) && j < b.length() && digit(b.charAt(j))) {
                if (firstDiff == 0) {
                    firstDiff = a.charAt(i) - b.charAt(j);
                }
                i++;
                j++;
            }
            if (i < a.length() && digit(a.charAt(i))) {
                return 1;
            }
            if (j < b.length() && digit(b.charAt(j))) {
                return -1;
            }
            if (firstDiff != 0) {
                return Integer.signum(firstDiff);
            }
        }
        return 0;
    }

    /** Two runs of digits as numbers, without limit on their length. */
    static int compareNumbers(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() - 1 && a.charAt(i) == '0') {
            i++;
        }
        while (j < b.length() - 1 && b.charAt(j) == '0') {
            j++;
        }
        int la = a.length() - i;
        int lb = b.length() - j;
        if (la != lb) {
            return Integer.compare(la, lb);
        }
        return Integer.signum(a.substring(i).compareTo(b.substring(j)));
    }
}
