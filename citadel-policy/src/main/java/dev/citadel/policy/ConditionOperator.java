package dev.citadel.policy;

import java.math.BigDecimal;
import java.net.InetAddress;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.Locale;
import java.util.Optional;

/**
 * The IAM condition operators. Each compares one policy value with one context value; a negated
 * operator ({@code StringNotEquals}, {@code NotIpAddress}, …) is the complement of its positive
 * form over the policy's values. A value that does not parse for its operator (a number, a date,
 * an address) never matches.
 */
public enum ConditionOperator {
    STRING_EQUALS("StringEquals", false),
    STRING_NOT_EQUALS("StringNotEquals", true),
    STRING_EQUALS_IGNORE_CASE("StringEqualsIgnoreCase", false),
    STRING_NOT_EQUALS_IGNORE_CASE("StringNotEqualsIgnoreCase", true),
    STRING_LIKE("StringLike", false),
    STRING_NOT_LIKE("StringNotLike", true),
    NUMERIC_EQUALS("NumericEquals", false),
    NUMERIC_NOT_EQUALS("NumericNotEquals", true),
    NUMERIC_LESS_THAN("NumericLessThan", false),
    NUMERIC_LESS_THAN_EQUALS("NumericLessThanEquals", false),
    NUMERIC_GREATER_THAN("NumericGreaterThan", false),
    NUMERIC_GREATER_THAN_EQUALS("NumericGreaterThanEquals", false),
    DATE_EQUALS("DateEquals", false),
    DATE_NOT_EQUALS("DateNotEquals", true),
    DATE_LESS_THAN("DateLessThan", false),
    DATE_LESS_THAN_EQUALS("DateLessThanEquals", false),
    DATE_GREATER_THAN("DateGreaterThan", false),
    DATE_GREATER_THAN_EQUALS("DateGreaterThanEquals", false),
    BOOL("Bool", false),
    BINARY_EQUALS("BinaryEquals", false),
    IP_ADDRESS("IpAddress", false),
    NOT_IP_ADDRESS("NotIpAddress", true),
    ARN_EQUALS("ArnEquals", false),
    ARN_LIKE("ArnLike", false),
    ARN_NOT_EQUALS("ArnNotEquals", true),
    ARN_NOT_LIKE("ArnNotLike", true),
    NULL("Null", false);

    private final String name;
    private final boolean negated;

    ConditionOperator(String name, boolean negated) {
        this.name = name;
        this.negated = negated;
    }

    public String policyName() {
        return name;
    }

    public boolean negated() {
        return negated;
    }

    public static Optional<ConditionOperator> byName(String name) {
        for (ConditionOperator op : values()) {
            if (op.name.equals(name)) {
                return Optional.of(op);
            }
        }
        return Optional.empty();
    }

    /** Whether one context value satisfies the positive form of this operator against one policy value. */
    boolean positiveMatch(String policy, String context) {
        return switch (this) {
            case STRING_EQUALS, STRING_NOT_EQUALS -> policy.equals(context);
            case STRING_EQUALS_IGNORE_CASE, STRING_NOT_EQUALS_IGNORE_CASE -> policy.equalsIgnoreCase(context);
            case STRING_LIKE, STRING_NOT_LIKE -> Glob.matches(policy, context, false);
            case NUMERIC_EQUALS, NUMERIC_NOT_EQUALS -> compareNumbers(policy, context).filter(c -> c == 0).isPresent();
            case NUMERIC_LESS_THAN -> compareNumbers(context, policy).filter(c -> c < 0).isPresent();
            case NUMERIC_LESS_THAN_EQUALS -> compareNumbers(context, policy).filter(c -> c <= 0).isPresent();
            case NUMERIC_GREATER_THAN -> compareNumbers(context, policy).filter(c -> c > 0).isPresent();
            case NUMERIC_GREATER_THAN_EQUALS -> compareNumbers(context, policy).filter(c -> c >= 0).isPresent();
            case DATE_EQUALS, DATE_NOT_EQUALS -> compareDates(context, policy).filter(c -> c == 0).isPresent();
            case DATE_LESS_THAN -> compareDates(context, policy).filter(c -> c < 0).isPresent();
            case DATE_LESS_THAN_EQUALS -> compareDates(context, policy).filter(c -> c <= 0).isPresent();
            case DATE_GREATER_THAN -> compareDates(context, policy).filter(c -> c > 0).isPresent();
            case DATE_GREATER_THAN_EQUALS -> compareDates(context, policy).filter(c -> c >= 0).isPresent();
            case BOOL -> policy.equalsIgnoreCase(context);
            case BINARY_EQUALS -> binaryEquals(policy, context);
            case IP_ADDRESS, NOT_IP_ADDRESS -> inCidr(policy, context);
            case ARN_EQUALS, ARN_NOT_EQUALS, ARN_LIKE, ARN_NOT_LIKE -> arnMatch(policy, context);
            case NULL -> throw new IllegalStateException("Null is decided on presence, not on values");
        };
    }

    private static Optional<Integer> compareNumbers(String a, String b) {
        try {
            return Optional.of(new BigDecimal(a.strip()).compareTo(new BigDecimal(b.strip())));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static Optional<Integer> compareDates(String a, String b) {
        Optional<Instant> x = instant(a);
        Optional<Instant> y = instant(b);
        return x.isPresent() && y.isPresent() ? Optional.of(x.get().compareTo(y.get())) : Optional.empty();
    }

    /** ISO 8601 date-times (with zone), or epoch seconds, as IAM accepts both. */
    static Optional<Instant> instant(String s) {
        String t = s.strip();
        Instant fast = utcSeconds(t);
        if (fast != null) {
            return Optional.of(fast);
        }
        try {
            if (t.matches("-?\\d{1,12}")) {
                return Optional.of(Instant.ofEpochSecond(Long.parseLong(t)));
            }
            if (t.matches("\\d{4}-\\d{2}-\\d{2}")) {
                return Optional.of(Instant.parse(t + "T00:00:00Z"));
            }
            return Optional.of(OffsetDateTime.parse(t).toInstant());
        } catch (DateTimeParseException | NumberFormatException e) {
            try {
                return Optional.of(Instant.parse(t));
            } catch (DateTimeParseException e2) {
                return Optional.empty();
            }
        }
    }

    /** The common {@code yyyy-MM-ddTHH:mm:ssZ} form without the cost of a formatter; null for anything else. */
    private static Instant utcSeconds(String t) {
        if (t.length() != 20 || t.charAt(4) != '-' || t.charAt(7) != '-' || t.charAt(10) != 'T' || t.charAt(13) != ':'
                || t.charAt(16) != ':' || t.charAt(19) != 'Z') {
            return null;
        }
        int year = digits(t, 0, 4);
        int month = digits(t, 5, 2);
        int day = digits(t, 8, 2);
        int hour = digits(t, 11, 2);
        int minute = digits(t, 14, 2);
        int second = digits(t, 17, 2);
        if (year < 0 || month < 1 || month > 12 || day < 1 || day > java.time.YearMonth.of(year, month).lengthOfMonth()
                || hour > 23 || minute > 59 || second > 59 || hour < 0 || minute < 0 || second < 0) {
            return null;
        }
        long days = java.time.LocalDate.of(year, month, day).toEpochDay();
        return Instant.ofEpochSecond(days * 86_400 + hour * 3_600L + minute * 60L + second);
    }

    private static int digits(String s, int from, int count) {
        int v = 0;
        for (int i = from; i < from + count; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }

    private static boolean binaryEquals(String policy, String context) {
        try {
            return java.util.Arrays.equals(Base64.getDecoder().decode(policy), Base64.getDecoder().decode(context));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** IP literals only: a value that is a host name is never resolved. */
    static boolean inCidr(String cidr, String address) {
        long v4 = ipv4(address);
        if (v4 >= 0) {
            int slash = cidr.indexOf('/');
            long net = ipv4(slash < 0 ? cidr : cidr.substring(0, slash));
            if (net < 0) {
                return false;
            }
            int bits;
            try {
                bits = slash < 0 ? 32 : Integer.parseInt(cidr.substring(slash + 1));
            } catch (NumberFormatException e) {
                return false;
            }
            if (bits < 0 || bits > 32) {
                return false;
            }
            long mask = bits == 0 ? 0 : (0xFFFFFFFFL << (32 - bits)) & 0xFFFFFFFFL;
            return (net & mask) == (v4 & mask);
        }
        try {
            int slash = cidr.indexOf('/');
            String net = slash < 0 ? cidr : cidr.substring(0, slash);
            if (!isIpLiteral(net) || !isIpLiteral(address)) {
                return false;
            }
            byte[] n = InetAddress.getByName(net).getAddress();
            byte[] a = InetAddress.getByName(address).getAddress();
            if (n.length != a.length) {
                return false;
            }
            int bits = slash < 0 ? n.length * 8 : Integer.parseInt(cidr.substring(slash + 1));
            if (bits < 0 || bits > n.length * 8) {
                return false;
            }
            for (int i = 0; i < n.length; i++) {
                int take = Math.max(0, Math.min(8, bits - i * 8));
                int mask = take == 0 ? 0 : (0xFF << (8 - take)) & 0xFF;
                if ((n[i] & mask) != (a[i] & mask)) {
                    return false;
                }
            }
            return true;
        } catch (java.net.UnknownHostException | NumberFormatException e) {
            return false;
        }
    }

    /** A dotted-quad IPv4 address as an unsigned 32-bit value, or -1. */
    private static long ipv4(String s) {
        long value = 0;
        int parts = 0;
        int octet = -1;
        for (int i = 0; i <= s.length(); i++) {
            char c = i < s.length() ? s.charAt(i) : '.';
            if (c == '.') {
                if (octet < 0 || ++parts > 4) {
                    return -1;
                }
                value = (value << 8) | octet;
                octet = -1;
            } else if (c >= '0' && c <= '9') {
                octet = (octet < 0 ? 0 : octet * 10) + (c - '0');
                if (octet > 255) {
                    return -1;
                }
            } else {
                return -1;
            }
        }
        return parts == 4 ? value : -1;
    }

    private static boolean isIpLiteral(String s) {
        return !s.isEmpty() && (s.chars().allMatch(c -> Character.isDigit(c) || c == '.') && s.indexOf('.') > 0
                || s.indexOf(':') >= 0 && s.chars().allMatch(c -> Character.digit(c, 16) >= 0 || c == ':' || c == '.'));
    }

    /** ARNs compare component by component; each of the six parts may hold wildcards (ArnLike) or must be equal. */
    private boolean arnMatch(String policy, String context) {
        String[] p = policy.split(":", 6);
        String[] c = context.split(":", 6);
        if (p.length != 6 || c.length != 6) {
            return false;
        }
        boolean like = this == ARN_LIKE || this == ARN_NOT_LIKE || this == ARN_EQUALS || this == ARN_NOT_EQUALS;
        for (int i = 0; i < 6; i++) {
            if (!(like ? Glob.matches(p[i], c[i], false) : p[i].equals(c[i]))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return name.toLowerCase(Locale.ROOT);
    }
}
