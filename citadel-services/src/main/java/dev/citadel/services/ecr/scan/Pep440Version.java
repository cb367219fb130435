package dev.citadel.services.ecr.scan;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Python's version order (PEP 440), for the versions PEP 440 accepts in their permissive spellings
 * ({@code v1.0}, {@code 1.0-alpha.1}, {@code 1.0-1}, {@code 1.0.dev}, upper case).
 *
 * <p>{@code [N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local]}: compared by epoch, then the release
 * segments with trailing zeros ignored ({@code 1.0 == 1.0.0}), then the pre-release
 * ({@code a < b < rc}, none above them — except that a version with only a dev part sorts below
 * every pre-release of its release), then post-release (none below any), then dev-release (none
 * above any). The local part ({@code +ubuntu1}) is ignored: advisories name public versions.
 * Strings PEP 440 does not accept are not {@link #valid}; they compare after every valid version,
 * among themselves as strings.
 */
final class Pep440Version {
    static final VersionScheme SCHEME = new VersionScheme() {
        @Override
        public int compare(String a, String b) {
            return Pep440Version.compare(a, b);
        }

        @Override
        public boolean valid(String version) {
            return parse(version).isPresent();
        }
    };

    private static final Pattern VERSION = Pattern.compile(
            "v?(?:([0-9]{1,18})!)?([0-9]{1,40}(?:\\.[0-9]{1,40}){0,30})"
                    + "(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?([0-9]{1,40})?)?"
                    + "(?:-([0-9]{1,40})|[-_.]?(post|rev|r)[-_.]?([0-9]{1,40})?)?"
                    + "(?:[-_.]?(dev)[-_.]?([0-9]{1,40})?)?"
                    + "(?:\\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?");

    /** A parsed version; {@code pre} is 0 (a), 1 (b), 2 (rc) or absent, and so on. */
    private record Parsed(long epoch, List<BigInteger> release, int preKind, BigInteger preNumber, Optional<BigInteger> post,
                          Optional<BigInteger> dev) {
    }

    private Pep440Version() {
    }

    static Optional<Parsed> parse(String v) {
        if (v == null || v.length() > Package.MAX_FIELD) {
            return Optional.empty();
        }
        Matcher m = VERSION.matcher(v.strip().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            return Optional.empty();
        }
        long epoch = m.group(1) == null ? 0 : Long.parseLong(m.group(1));
        List<BigInteger> release = new ArrayList<>();
        for (String part : m.group(2).split("\\.")) {
            release.add(new BigInteger(part));
        }
        while (release.size() > 1 && release.getLast().signum() == 0) {
            release.removeLast();
        }
        int preKind = -1;
        BigInteger preNumber = BigInteger.ZERO;
        if (m.group(3) != null) {
            preKind = switch (m.group(3)) {
                case "a", "alpha" -> 0;
                case "b", "beta" -> 1;
                default -> 2;
            };
            preNumber = number(m.group(4));
        }
        Optional<BigInteger> post = Optional.empty();
        if (m.group(5) != null) {
            post = Optional.of(new BigInteger(m.group(5)));
        } else if (m.group(6) != null) {
            post = Optional.of(number(m.group(7)));
        }
        Optional<BigInteger> dev = m.group(8) == null ? Optional.empty() : Optional.of(number(m.group(9)));
        return Optional.of(new Parsed(epoch, release, preKind, preNumber, post, dev));
    }

    private static BigInteger number(String s) {
        return s == null ? BigInteger.ZERO : new BigInteger(s);
    }

    static int compare(String a, String b) {
        Optional<Parsed> pa = parse(a);
        Optional<Parsed> pb = parse(b);
        if (pa.isEmpty() || pb.isEmpty()) {
            if (pa.isPresent()) {
                return -1;
            }
            if (pb.isPresent()) {
                return 1;
            }
            return Integer.signum(a.compareTo(b));
        }
        return compare(pa.get(), pb.get());
    }

    private static int compare(Parsed a, Parsed b) {
        int c = Long.compare(a.epoch, b.epoch);
        if (c != 0) {
            return c;
        }
        for (int i = 0; i < Math.max(a.release.size(), b.release.size()); i++) {
            BigInteger x = i < a.release.size() ? a.release.get(i) : BigInteger.ZERO;
            BigInteger y = i < b.release.size() ? b.release.get(i) : BigInteger.ZERO;
            c = x.compareTo(y);
            if (c != 0) {
                return Integer.signum(c);
            }
        }
        c = Integer.compare(preRank(a), preRank(b));
        if (c != 0) {
            return c;
        }
        if (a.preKind >= 0) {
            c = a.preNumber.compareTo(b.preNumber);
            if (c != 0) {
                return Integer.signum(c);
            }
        }
        c = compareOptional(a.post, b.post, -1);
        if (c != 0) {
            return c;
        }
        return compareOptional(a.dev, b.dev, 1);
    }

    /** -1 for a dev-only release (below its pre-releases), the kind for a pre-release, 3 for none. */
    private static int preRank(Parsed p) {
        if (p.preKind < 0 && p.post.isEmpty() && p.dev.isPresent()) {
            return -1;
        }
        return p.preKind < 0 ? 3 : p.preKind;
    }

    /** Absent sorts below ({@code absent = -1}) or above ({@code absent = 1}) every present value. */
    private static int compareOptional(Optional<BigInteger> a, Optional<BigInteger> b, int absent) {
        if (a.isEmpty() || b.isEmpty()) {
            return a.isEmpty() == b.isEmpty() ? 0 : a.isEmpty() ? absent : -absent;
        }
        return Integer.signum(a.get().compareTo(b.get()));
    }
}
