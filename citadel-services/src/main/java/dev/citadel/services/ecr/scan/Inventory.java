package dev.citadel.services.ecr.scan;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What an image has installed: its operating system (from {@code os-release}), the packages of its
 * package managers (dpkg, apk) and the language packages beside them (Python distributions, Maven
 * artifacts in jars). A Python distribution or a jar that an OS package installed (its path is in
 * a dpkg file list or the apk database) is left out: the OS package stands for it, and the
 * distribution's advisories track its patched versions, which upstream version numbers do not.
 *
 * <p>{@code databases} names the package databases found ({@code dpkg}, {@code apk},
 * {@code python}, {@code jar}); an image with none is one the scanner does not support.
 */
public record Inventory(Optional<String> operatingSystem, List<Package> packages, List<String> databases, List<String> warnings) {
    static final int MAX_PACKAGES = 100_000;
    private static final Pattern DEBIAN_VERSION = Pattern.compile("(\\d+)(\\.\\d+)*");
    private static final Pattern ALPINE_VERSION = Pattern.compile("(\\d+)\\.(\\d+).*");

    public Inventory {
        requireNonNull(operatingSystem, "operatingSystem is null");
        packages = List.copyOf(packages);
        databases = List.copyOf(databases);
        warnings = List.copyOf(warnings);
    }

    /** Whether the image has a package database the scanner reads. */
    public boolean supported() {
        return !databases.isEmpty();
    }

    /** The inventory of the files an {@link ImageFilesystem} kept. */
    public static Inventory of(ImageFilesystem fs) {
        List<String> warnings = new ArrayList<>(fs.warnings());
        Optional<OsRelease> os = fs.file("etc/os-release").or(() -> fs.file("usr/lib/os-release")).map(OsRelease::parse);
        List<Package> packages = new ArrayList<>();
        Set<String> databases = new LinkedHashSet<>();
        Set<String> owned = new HashSet<>();

        byte[] status = fs.file("var/lib/dpkg/status").orElse(null);
        Map<String, byte[]> parts = fs.files(ImageFilesystem.Kind.DPKG_STATUS_PART);
        if (status != null || !parts.isEmpty()) {
            databases.add("dpkg");
            String eco = debianEcosystem(os, fs.file("etc/debian_version"));
            if (status != null) {
                addDpkg(packages, DpkgStatus.parse(status, true), eco, "var/lib/dpkg/status");
            }
            parts.forEach((path, data) -> addDpkg(packages, DpkgStatus.parse(data, false), eco, path));
            for (byte[] list : fs.files(ImageFilesystem.Kind.DPKG_LIST).values()) {
                owned.addAll(Text.lines(list));
            }
        }
        for (String db : List.of("lib/apk/db/installed", "usr/lib/apk/db/installed")) {
            Optional<byte[]> data = fs.file(db);
            if (data.isPresent()) {
                databases.add("apk");
                String eco = alpineEcosystem(os, fs.file("etc/alpine-release"));
                ApkDatabase.Result r = ApkDatabase.parse(data.get());
                owned.addAll(r.ownedLanguageFiles());
                for (ApkDatabase.Entry e : r.packages()) {
                    packages.add(new Package(eco, e.name(), e.version(), e.origin().filter(o -> !o.equals(e.name())), Optional.empty(), db));
                }
            }
        }
        for (var e : fs.files(ImageFilesystem.Kind.PYTHON_METADATA).entrySet()) {
            String path = e.getKey();
            String dir = path.endsWith("/METADATA") || path.endsWith("/PKG-INFO") ? path.substring(0, path.lastIndexOf('/')) : path;
            if (owned.contains(path) || owned.contains(dir)) {
                continue;
            }
            PythonMetadata.parse(e.getValue()).ifPresent(d -> {
                databases.add("python");
                packages.add(new Package("PyPI", d.name(), d.version(), Optional.empty(), Optional.empty(), path));
            });
        }
        for (var e : fs.jars().entrySet()) {
            if (owned.contains(e.getKey())) {
                continue;
            }
            for (byte[] pom : e.getValue().pomProperties()) {
                PomProperties.parse(pom).ifPresent(a -> {
                    databases.add("jar");
                    packages.add(new Package("Maven", a.name(), a.version(), Optional.empty(), Optional.empty(), e.getKey()));
                });
            }
        }
        List<Package> sorted = packages.stream().distinct()
                .sorted(Comparator.comparing(Package::ecosystem).thenComparing(Package::name).thenComparing(Package::version)
                        .thenComparing(Package::location))
                .toList();
        if (sorted.size() > MAX_PACKAGES) {
            warnings.add("the image lists " + sorted.size() + " packages; the first " + MAX_PACKAGES + " were scanned");
            sorted = sorted.subList(0, MAX_PACKAGES);
        }
        return new Inventory(os.flatMap(OsRelease::describe), sorted, List.copyOf(databases), warnings);
    }

    private static void addDpkg(List<Package> out, List<DpkgStatus.Entry> entries, String eco, String location) {
        for (DpkgStatus.Entry e : entries) {
            Optional<String> sourceVersion = e.sourceVersion().filter(v -> !v.equals(e.version()));
            out.add(new Package(eco, e.name(), e.version(), e.sourceName().filter(s -> !s.equals(e.name())), sourceVersion, location));
        }
    }

    /**
     * {@code Debian:<major>} from os-release's {@code VERSION_ID} (or {@code etc/debian_version}
     * such as {@code 12.5}); {@code Ubuntu:<VERSION_ID>} with {@code :LTS} for an LTS release;
     * plain {@code Debian} when the release is unknown (testing and unstable say {@code trixie/sid}).
     */
    static String debianEcosystem(Optional<OsRelease> os, Optional<byte[]> debianVersion) {
        if (os.isPresent() && os.get().id().equals("ubuntu") && !os.get().versionId().isEmpty()
                && Package.plausible(os.get().versionId())) {
            return "Ubuntu:" + os.get().versionId() + (os.get().version().contains("LTS") ? ":LTS" : "");
        }
        if (os.isPresent() && os.get().id().equals("debian") && os.get().versionId().matches("\\d{1,3}")) {
            return "Debian:" + os.get().versionId();
        }
        if (os.isEmpty() || os.get().id().equals("debian")) {
            Optional<String> v = debianVersion.map(b -> new String(b, StandardCharsets.UTF_8).strip());
            if (v.isPresent()) {
                Matcher m = DEBIAN_VERSION.matcher(v.get());
                if (m.matches() && m.group(1).length() <= 3) {
                    return "Debian:" + m.group(1);
                }
            }
        }
        return "Debian";
    }

    /** {@code Alpine:v<major>.<minor>} from os-release's {@code VERSION_ID} or {@code etc/alpine-release}; else {@code Alpine}. */
    static String alpineEcosystem(Optional<OsRelease> os, Optional<byte[]> alpineRelease) {
        String v = os.filter(o -> o.id().equals("alpine")).map(OsRelease::versionId)
                .or(() -> alpineRelease.map(b -> new String(b, StandardCharsets.UTF_8).strip())).orElse("");
        Matcher m = ALPINE_VERSION.matcher(v);
        if (m.matches() && m.group(1).length() <= 3 && m.group(2).length() <= 3) {
            return "Alpine:v" + m.group(1) + "." + m.group(2);
        }
        return "Alpine";
    }
}
