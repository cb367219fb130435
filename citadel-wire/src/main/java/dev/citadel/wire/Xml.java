package dev.citadel.wire;

/**
 * Writing XML text safely: element text and attribute values escaped, and characters that XML 1.0
 * cannot carry (controls other than tab, newline and carriage return; lone surrogates) replaced by
 * U+FFFD, so that no value can break a document's structure.
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

    public static StringBuilder element(StringBuilder sb, String name, CharSequence text) {
        sb.append('<').append(name).append('>');
        escape(sb, text);
        return sb.append("</").append(name).append('>');
    }
}
