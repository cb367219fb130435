package dev.citadel.services.ecr.scan;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The dpkg status database ({@code var/lib/dpkg/status}, or one file of distroless's
 * {@code var/lib/dpkg/status.d/}): paragraphs of {@code Field: value} lines separated by blank
 * lines, continuation lines starting with a space or tab, field names case-insensitive (Debian
 * Policy §5.1). A paragraph is an installed package when it has {@code Package} and
 * {@code Version} and its {@code Status} ({@code <want> <flag> <state>}) says flag {@code ok} and
 * state {@code installed} — {@code install ok installed}, and also {@code hold ok installed} and
 * {@code deinstall ok installed}, whose files are still on disk. Distroless's files carry no
 * {@code Status}; they are read with {@code requireStatus} false. {@code Source} is
 * {@code name} or {@code name (version)}.
 *
 * <p>Untrusted input: any bytes give a (possibly empty) list, never an exception; at most
 * {@link #MAX_PACKAGES} packages; names and versions that are not {@link Package#plausible}
 * drop their paragraph.
 */
final class DpkgStatus {
    static final int MAX_PACKAGES = 100_000;

    record Entry(String name, String version, String architecture, Optional<String> sourceName, Optional<String> sourceVersion) {
    }

    private DpkgStatus() {
    }

    static List<Entry> parse(byte[] data, boolean requireStatus) {
        List<Entry> out = new ArrayList<>();
        Map<String, String> fields = new HashMap<>();
        for (String line : Text.lines(data)) {
            if (Text.blank(line)) {
                paragraph(fields, requireStatus, out);
                fields.clear();
                if (out.size() >= MAX_PACKAGES) {
                    return out;
                }
                continue;
            }
            char first = line.charAt(0);
            if (first == ' ' || first == '\t' || first == '#') {
                continue; // a continuation line of a multi-line field (Description, Conffiles), or a comment
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            fields.putIfAbsent(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
        }
        paragraph(fields, requireStatus, out);
        return out.size() > MAX_PACKAGES ? out.subList(0, MAX_PACKAGES) : out;
    }

    private static void paragraph(Map<String, String> f, boolean requireStatus, List<Entry> out) {
        String name = f.get("package");
        String version = f.get("version");
        if (!Package.plausible(name) || !Package.plausible(version)) {
            return;
        }
        String status = f.get("status");
        if (status != null || requireStatus) {
            String[] words = status == null ? new String[0] : status.trim().split("\\s+");
            if (words.length != 3 || !words[1].equals("ok") || !words[2].equals("installed")) {
                return;
            }
        }
        Optional<String> sourceName = Optional.empty();
        Optional<String> sourceVersion = Optional.empty();
        String source = f.get("source");
        if (source != null && !source.isEmpty()) {
            int paren = source.indexOf('(');
            String sn = (paren < 0 ? source : source.substring(0, paren)).trim();
            if (Package.plausible(sn)) {
                sourceName = Optional.of(sn);
                if (paren >= 0 && source.endsWith(")")) {
                    String sv = source.substring(paren + 1, source.length() - 1).trim();
                    if (Package.plausible(sv)) {
                        sourceVersion = Optional.of(sv);
                    }
                }
            }
        }
        String arch = f.getOrDefault("architecture", "");
        out.add(new Entry(name, version, Package.plausible(arch) ? arch : "", sourceName, sourceVersion));
    }
}
