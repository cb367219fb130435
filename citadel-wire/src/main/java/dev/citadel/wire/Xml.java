package dev.citadel.wire;

/**
 * Writing XML text safely: element text and attribute values escaped, and characters that XML 1.0
 * cannot carry (controls other than tab, newline and carriage return; lone surrogates; U+FFFE and
 * U+FFFF) replaced by U+FFFD, so that no value can break a document's structure. Carriage return
 * is written as {@code &#13;} so that a reader's line-end normalization keeps it. Element names
 * written by Citadel are ASCII XML names ({@code [A-Za-z_][A-Za-z0-9_.-]*}), checked by
 * {@link #requireName}.
 */
public final class Xml {
    public static final String DECLARATION = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

    private Xml() {
    }

    public static StringBuilder escape(StringBuilder sb, CharSequence s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> sb.append("&amp;");
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&apos;");
                case '\r' -> sb.append("&#13;");
                default -> {
                    if (c < 0x20 && c != '\t' && c != '\n') {
                        sb.append('\uFFFD');
                    } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                        sb.append(c).append(s.charAt(++i));
                    } else if (Character.isSurrogate(c) || c == '\uFFFE' || c == '\uFFFF') {
                        sb.append('\uFFFD');
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb;
    }

    /** Appends {@code <name>escaped text</name>}; the name must be an XML name. */
    public static StringBuilder element(StringBuilder sb, String name, CharSequence text) {
        requireName(name);
        sb.append('<').append(name).append('>');
        escape(sb, text);
        return sb.append("</").append(name).append('>');
    }

    /** Whether {@code name} is an ASCII XML name Citadel may write as an element name. */
    public static boolean isName(String name) {
        if (name == null || name.isEmpty()) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'
                    || (i > 0 && ((c >= '0' && c <= '9') || c == '-' || c == '.'));
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /**
     * Refuses an element name that is not an XML name: such a name comes from a bug of the caller,
     * and failing beats writing a document whose structure a value could change.
     */
    public static String requireName(String name) {
        if (!isName(name)) {
            throw new IllegalArgumentException("not an XML element name: " + name);
        }
        return name;
    }
}
