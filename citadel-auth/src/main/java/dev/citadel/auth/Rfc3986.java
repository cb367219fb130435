package dev.citadel.auth;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Percent-encoding as SigV4 defines it: everything but {@code A-Z a-z 0-9 - _ . ~} is encoded, hex in upper case. */
public final class Rfc3986 {
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();
    private static final boolean[] UNRESERVED = new boolean[128];

    static {
        for (char c = 'A'; c <= 'Z'; c++) {
            UNRESERVED[c] = true;
        }
        for (char c = 'a'; c <= 'z'; c++) {
            UNRESERVED[c] = true;
        }
        for (char c = '0'; c <= '9'; c++) {
            UNRESERVED[c] = true;
        }
        UNRESERVED['-'] = true;
        UNRESERVED['_'] = true;
        UNRESERVED['.'] = true;
        UNRESERVED['~'] = true;
    }

    private Rfc3986() {
    }

    /** Encodes every byte of the UTF-8 form that is not unreserved; {@code /} too unless {@code keepSlash}. */
    public static String encode(String s, boolean keepSlash) {
        int n = s.length();
        boolean plain = true;
        for (int i = 0; i < n && plain; i++) {
            char c = s.charAt(i);
            plain = c < 128 && (UNRESERVED[c] || (keepSlash && c == '/'));
        }
        if (plain) {
            return s;
        }
        return encode(s.getBytes(StandardCharsets.UTF_8), keepSlash);
    }

    /**
     * Decodes {@code %XX} escapes (a {@code +} stays a plus); returns null when an escape is
     * malformed. Only ASCII hex digits form an escape. Decoded bytes that are not UTF-8 become
     * U+FFFD; {@link #canonicalize(String)} keeps such bytes exactly.
     */
    public static String decode(String s) {
        if (s.indexOf('%') < 0) {
            return s;
        }
        byte[] bytes = decodeToBytes(s);
        return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
    }

    /**
     * The SigV4 form of one received query name or value: its escapes decoded to bytes, then every
     * byte that is not unreserved encoded again, so that {@code %e1}, {@code %E1} and a raw byte
     * all give {@code %E1} and a byte that is not UTF-8 keeps its value. Null when an escape is
     * malformed.
     */
    public static String canonicalize(String s) {
        byte[] bytes = decodeToBytes(s);
        return bytes == null ? null : encode(bytes, false);
    }

    private static byte[] decodeToBytes(String s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= n) {
                    return null;
                }
                int hi = hexValue(s.charAt(i + 1));
                int lo = hexValue(s.charAt(i + 2));
                if (hi < 0 || lo < 0) {
                    return null;
                }
                out.write((hi << 4) | lo);
                i += 2;
            } else if (c < 128) {
                out.write(c);
            } else {
                int end = Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1)) ? i + 2 : i + 1;
                out.writeBytes(s.substring(i, end).getBytes(StandardCharsets.UTF_8));
                i = end - 1;
            }
        }
        return out.toByteArray();
    }

    private static String encode(byte[] bytes, boolean keepSlash) {
        StringBuilder sb = new StringBuilder(bytes.length + 16);
        for (byte b : bytes) {
            int c = b & 0xFF;
            if (c < 128 && (UNRESERVED[c] || (keepSlash && c == '/'))) {
                sb.append((char) c);
            } else {
                sb.append('%').append(HEX[c >> 4]).append(HEX[c & 0xF]);
            }
        }
        return sb.toString();
    }

    /** The value of an ASCII hex digit, or -1; {@link Character#digit} would also take non-ASCII digits. */
    private static int hexValue(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }
}
