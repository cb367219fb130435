package dev.citadel.services.ecr.scan;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Alpine's installed-package database ({@code lib/apk/db/installed}): paragraphs separated by
 * blank lines, each line one letter, a colon and a value. Read here: {@code P} the package name,
 * {@code V} its version, {@code o} its origin (the source package, which Alpine's advisories
 * name), {@code A} its architecture, and {@code F} (a directory) with the {@code R} lines (files in
 * it) that follow, from which the files that name Python metadata or jars are kept, so that
 * language packages installed by apk are not counted twice.
 *
 * <p>Untrusted input: any bytes give a result, never an exception; at most
 * {@link DpkgStatus#MAX_PACKAGES} packages and {@link #MAX_OWNED} owned files.
 */
final class ApkDatabase {
    static final int MAX_OWNED = 1_000_000;

    record Entry(String name, String version, String architecture, Optional<String> origin) {
    }

    record Result(List<Entry> packages, Set<String> ownedLanguageFiles) {
    }

    private ApkDatabase() {
    }

    static Result parse(byte[] data) {
        List<Entry> out = new ArrayList<>();
        Set<String> owned = new LinkedHashSet<>();
        String name = null;
        String version = null;
        String origin = null;
        String arch = "";
        String dir = "";
        for (String line : Text.lines(data)) {
            if (Text.blank(line)) {
                add(out, name, version, origin, arch);
                name = null;
                version = null;
                origin = null;
                arch = "";
                dir = "";
                if (out.size() >= DpkgStatus.MAX_PACKAGES) {
                    break;
                }
                continue;
            }
            if (line.length() < 2 || line.charAt(1) != ':') {
                continue;
            }
            String value = line.substring(2);
            switch (line.charAt(0)) {
                case 'P' -> name = value;
                case 'V' -> version = value;
                case 'o' -> origin = value;
                case 'A' -> arch = value;
                case 'F' -> dir = value;
                case 'R' -> {
                    if (owned.size() < MAX_OWNED) {
                        TarReader.normalise(dir + "/" + value).filter(ImageFilesystem::languageMarker).ifPresent(owned::add);
                    }
                }
                default -> {
                    // checksums, sizes, dependencies, licences: not needed for matching
                }
            }
        }
        if (out.size() < DpkgStatus.MAX_PACKAGES) {
            add(out, name, version, origin, arch);
        }
        return new Result(out, owned);
    }

    private static void add(List<Entry> out, String name, String version, String origin, String arch) {
        if (Package.plausible(name) && Package.plausible(version)) {
            out.add(new Entry(name, version, Package.plausible(arch) ? arch : "",
                    Package.plausible(origin) ? Optional.of(origin) : Optional.empty()));
        }
    }
}
