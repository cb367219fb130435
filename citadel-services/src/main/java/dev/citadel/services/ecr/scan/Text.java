package dev.citadel.services.ecr.scan;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Lines of a package database file: UTF-8 (malformed bytes replaced), split on LF, a trailing CR dropped. */
final class Text {
    private Text() {
    }

    static List<String> lines(byte[] data) {
        String s = new String(data, StandardCharsets.UTF_8);
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= s.length(); i++) {
            if (i == s.length() || s.charAt(i) == '\n') {
                int end = i > start && s.charAt(i - 1) == '\r' ? i - 1 : i;
                if (i < s.length() || start < s.length()) {
                    out.add(s.substring(start, end));
                }
                start = i + 1;
            }
        }
        return out;
    }

    static boolean blank(String line) {
        return line.isBlank();
    }
}
