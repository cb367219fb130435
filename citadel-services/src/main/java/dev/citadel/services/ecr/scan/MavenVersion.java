package dev.citadel.services.ecr.scan;

import java.math.BigInteger;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;

/**
 * Maven's version order (the rules of Maven's {@code ComparableVersion}, in its 3.x form).
 *
 * <p>A version, lower-cased, is split into items at {@code .}, at {@code -} (which starts a
 * sub-list) and at each change between digits and letters (which also starts a sub-list). Digit
 * items compare as numbers; word items ("qualifiers") in the order
 * {@code alpha < beta < milestone < rc = cr < snapshot < "" = ga = final = release < sp}, then
 * any other word, alphabetically; {@code a1}, {@code b1}, {@code m1} mean alpha, beta,
 * milestone. Trailing zeros and release qualifiers are dropped from each list, so
 * {@code 1 = 1.0 = 1.0.0 = 1-ga = 2.0.0.RELEASE}'s {@code 2}. A number sorts above a word and a
 * list, a list above a word; a missing item compares as 0 or as the release qualifier. Every
 * string orders; {@link #valid} asks only for a plausible one.
 */
final class MavenVersion {
    static final VersionScheme SCHEME = new VersionScheme() {
        @Override
        public int compare(String a, String b) {
            return MavenVersion.compare(a, b);
        }

        @Override
        public boolean valid(String version) {
            return Package.plausible(version);
        }
    };

    private static final List<String> QUALIFIERS = List.of("alpha", "beta", "milestone", "rc", "snapshot", "", "sp");
    private static final String RELEASE_INDEX = String.valueOf(QUALIFIERS.indexOf(""));

    private MavenVersion() {
    }

    static int compare(String a, String b) {
        return Integer.signum(parse(a).compareTo(parse(b)));
    }

    private sealed interface Item permits Number, Word, Items {
        boolean isNull();

        /** Compares with {@code other}, which is null when the other version has no item here. */
        int compareTo(Item other);
    }

    private record Number(BigInteger value) implements Item {
        @Override
        public boolean isNull() {
            return value.signum() == 0;
        }

        @Override
        public int compareTo(Item other) {
            return switch (other) {
                case null -> value.signum() == 0 ? 0 : 1;
                case Number n -> value.compareTo(n.value);
                case Word w -> 1;
                case Items l -> 1;
            };
        }
    }

    private record Word(String value) implements Item {
        static Word of(String raw, boolean followedByDigit) {
            String v = raw;
            if (followedByDigit && v.length() == 1) {
                v = switch (v.charAt(0)) {
                    case 'a' -> "alpha";
                    case 'b' -> "beta";
                    case 'm' -> "milestone";
                    default -> v;
                };
            }
            v = switch (v) {
                case "ga", "final", "release" -> "";
                case "cr" -> "rc";
                default -> v;
            };
            return new Word(v);
        }

        private static String rank(String q) {
            int i = QUALIFIERS.indexOf(q);
            return i >= 0 ? String.valueOf(i) : QUALIFIERS.size() + "-" + q;
        }

        @Override
        public boolean isNull() {
            return rank(value).equals(RELEASE_INDEX);
        }

        @Override
        public int compareTo(Item other) {
            return switch (other) {
                case null -> rank(value).compareTo(RELEASE_INDEX);
                case Number n -> -1;
                case Word w -> rank(value).compareTo(rank(w.value));
                case Items l -> -1;
            };
        }
    }

    private record Items(List<Item> items) implements Item {
        Items() {
            this(new ArrayList<>());
        }

        @Override
        public boolean isNull() {
            return items.isEmpty();
        }

        void normalize() {
            for (int i = items.size() - 1; i >= 0; i--) {
                Item last = items.get(i);
                if (last.isNull()) {
                    items.remove(i);
                } else if (!(last instanceof Items)) {
                    break;
                }
            }
        }

        @Override
        public int compareTo(Item other) {
            return switch (other) {
                case null -> items.isEmpty() ? 0 : items.getFirst().compareTo(null);
                case Number n -> -1;
                case Word w -> 1;
                case Items l -> {
                    int size = Math.max(items.size(), l.items.size());
                    for (int i = 0; i < size; i++) {
                        Item x = i < items.size() ? items.get(i) : null;
                        Item y = i < l.items.size() ? l.items.get(i) : null;
                        int c = x == null ? (y == null ? 0 : -y.compareTo(null)) : x.compareTo(y);
                        if (c != 0) {
                            yield c;
                        }
                    }
                    yield 0;
                }
            };
        }
    }

    private static Item item(boolean digits, String buf) {
        return digits ? new Number(new BigInteger(buf)) : Word.of(buf, false);
    }

    private static Items parse(String raw) {
        String version = raw.toLowerCase(Locale.ENGLISH);
        Items root = new Items();
        Items list = root;
        Deque<Items> stack = new ArrayDeque<>();
        stack.push(list);
        boolean digits = false;
        int start = 0;
        for (int i = 0; i < version.length(); i++) {
            char c = version.charAt(i);
            if (c == '.' || c == '-') {
                list.items.add(i == start ? new Number(BigInteger.ZERO) : item(digits, version.substring(start, i)));
                start = i + 1;
                if (c == '-') {
                    Items sub = new Items();
                    list.items.add(sub);
                    list = sub;
                    stack.push(list);
                }
            } else if (c >= '0' && c <= '9') {
                if (!digits && i > start) {
                    list.items.add(Word.of(version.substring(start, i), true));
                    start = i;
                    Items sub = new Items();
                    list.items.add(sub);
                    list = sub;
                    stack.push(list);
                }
                digits = true;
            } else {
                if (digits && i > start) {
                    list.items.add(item(true, version.substring(start, i)));
                    start = i;
                    Items sub = new Items();
                    list.items.add(sub);
                    list = sub;
                    stack.push(list);
                }
                digits = false;
            }
        }
        if (version.length() > start) {
            list.items.add(item(digits, version.substring(start)));
        }
        while (!stack.isEmpty()) {
            stack.pop().normalize();
        }
        return root;
    }
}
