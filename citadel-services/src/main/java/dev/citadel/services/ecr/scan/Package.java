package dev.citadel.services.ecr.scan;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * A package found in an image. {@code ecosystem} is an OSV ecosystem name: {@code Debian:12} (or
 * plain {@code Debian} when the release is unknown), {@code Ubuntu:22.04}, {@code Alpine:v3.20},
 * {@code PyPI}, {@code Maven} (whose names are {@code group:artifact}). A Debian binary package
 * names the source package it was built from, and that source's version when it differs
 * ({@code Source: gcc-defaults (1.203)}); advisories of Debian name source packages. An Alpine
 * package names its origin the same way. {@code location} is the file in the image that listed it.
 */
public record Package(String ecosystem, String name, String version, Optional<String> sourceName, Optional<String> sourceVersion,
                      String location) {
    static final int MAX_FIELD = 256;

    public Package {
        requireNonNull(ecosystem, "ecosystem is null");
        requireNonNull(name, "name is null");
        requireNonNull(version, "version is null");
        requireNonNull(sourceName, "sourceName is null");
        requireNonNull(sourceVersion, "sourceVersion is null");
        requireNonNull(location, "location is null");
        if (ecosystem.isEmpty() || name.isEmpty() || version.isEmpty()) {
            throw new IllegalArgumentException("a package needs an ecosystem, a name and a version");
        }
    }

    /** The name advisories use for this package: the source package's when there is one. */
    public String advisoryName() {
        return sourceName.orElse(name);
    }

    /** The version advisories compare: the source package's when it is given. */
    public String advisoryVersion() {
        return sourceVersion.orElse(version);
    }

    /** Whether {@code s} can be a package name or version: non-empty, not too long, printable ASCII without spaces. */
    static boolean plausible(String s) {
        if (s == null || s.isEmpty() || s.length() > MAX_FIELD) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c <= ' ' || c > '~') {
                return false;
            }
        }
        return true;
    }
}
