package dev.citadel.services.ecr.scan;

import java.util.Optional;

/**
 * The order of versions in one ecosystem, as its package manager defines it. {@link #compare} is a
 * total preorder on the strings {@link #valid} accepts (equal versions may be spelt differently:
 * Debian's {@code 1.0} and {@code 1.0-0}, PEP 440's {@code 1.0} and {@code 1.0.0}); for other
 * strings it still returns, consistently, but advisories never match on them.
 */
interface VersionScheme {
    int compare(String a, String b);

    boolean valid(String version);

    /** The scheme of an OSV ecosystem ({@code Debian:12}, {@code PyPI}, …), or empty for one the scanner cannot order. */
    static Optional<VersionScheme> forEcosystem(String ecosystem) {
        int colon = ecosystem.indexOf(':');
        String base = colon < 0 ? ecosystem : ecosystem.substring(0, colon);
        return switch (base) {
            case "Debian", "Ubuntu" -> Optional.of(DebianVersion.SCHEME);
            case "Alpine" -> Optional.of(ApkVersion.SCHEME);
            case "PyPI" -> Optional.of(Pep440Version.SCHEME);
            case "Maven" -> Optional.of(MavenVersion.SCHEME);
            default -> Optional.empty();
        };
    }
}
