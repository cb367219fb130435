package dev.citadel.services.ecr.scan;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Alpine's, Python's and Maven's version orders on the cases their own documentation and tools give. */
class VersionOrderTest {
    static void ascending(VersionScheme scheme, String... chain) {
        for (int i = 0; i + 1 < chain.length; i++) {
            assertThat(scheme.compare(chain[i], chain[i + 1])).as("%s < %s", chain[i], chain[i + 1]).isNegative();
            assertThat(scheme.compare(chain[i + 1], chain[i])).as("%s > %s", chain[i + 1], chain[i]).isPositive();
        }
    }

    static void equal(VersionScheme scheme, String a, String b) {
        assertThat(scheme.compare(a, b)).as("%s = %s", a, b).isZero();
        assertThat(scheme.compare(b, a)).as("%s = %s", b, a).isZero();
    }

    @Test
    void alpine() {
        VersionScheme apk = ApkVersion.SCHEME;
        // a post-release suffix is a new upstream version, above every revision of the version before it
        ascending(apk, "1.0_alpha", "1.0_alpha2", "1.0_beta", "1.0_pre1", "1.0_rc1", "1.0_rc2", "1.0", "1.0-r1", "1.0-r2", "1.0-r10",
                "1.0_cvs", "1.0_git20240101", "1.0_p1", "1.0_p1-r1", "1.0.1", "1.0.1a", "1.0.1b", "1.1", "1.10", "2.0");
        ascending(apk, "1.01", "1.05", "1.1");
        ascending(apk, "1.0~abc", "1.0~abd", "1.0~abd-r1");
        ascending(apk, "1.2.11-r3", "1.2.11-r4", "1.2.12-r0");
        equal(apk, "1.2.3-r4", "1.2.3-r4");
        assertThat(List.of("1.0", "1.2.11-r4", "1.0_rc1", "2.3.4_p1-r2", "1.2a", "20240101", "1.0_git20240101~a1b2-r3")).allMatch(apk::valid);
        assertThat(List.of("", "a1", "1.0-x", "1.0_foo", "1..0", "1.2a3", "1.0~", "1.0-r", "1.0_", "1.0-r1.2")).noneMatch(apk::valid);
    }

    @Test
    void python() {
        VersionScheme pep = Pep440Version.SCHEME;
        // PEP 440's own example of the full ordering (the local version left out: advisories ignore it)
        ascending(pep, "1.0.dev456", "1.0a1", "1.0a2.dev456", "1.0a12.dev456", "1.0a12", "1.0b1.dev456", "1.0b2", "1.0b2.post345.dev456",
                "1.0b2.post345", "1.0rc1.dev456", "1.0rc1", "1.0", "1.0.post456.dev34", "1.0.post456", "1.1.dev1");
        ascending(pep, "1.2.1", "1.4.1.post1", "1.5.0", "2.0", "1!0.1");
        equal(pep, "1.0", "1.0.0");
        equal(pep, "1.0alpha1", "1.0a1");
        equal(pep, "1.0-1", "1.0.post1");
        equal(pep, "v1.0", "1.0");
        equal(pep, "1.0+ubuntu1", "1.0");
        equal(pep, "1.0C1", "1.0rc1");
        assertThat(List.of("1.0", "2024.1", "1.0.post1.dev2", "1!2.0", "1.2.1+dfsg")).allMatch(pep::valid);
        assertThat(List.of("", "1.0-dfsg", "abc", "1.0.x", "1..0")).noneMatch(pep::valid);
        ascending(pep, "9.0", "not-a-version");
    }

    @Test
    void maven() {
        VersionScheme mvn = MavenVersion.SCHEME;
        ascending(mvn, "1-alpha-1", "1-alpha-2", "1-beta-1", "1-milestone-1", "1-rc-1", "1-SNAPSHOT", "1", "1-sp", "1-foo", "1.1", "1.1.1",
                "1.2", "2");
        ascending(mvn, "2.0-beta9", "2.0", "2.3.1", "2.4", "2.12.1", "2.12.2", "2.13.0", "2.14.1", "2.15.0", "2.17.0", "10.0");
        equal(mvn, "1", "1.0.0");
        equal(mvn, "1-ga", "1");
        equal(mvn, "1.0.RELEASE", "1");
        equal(mvn, "1-final", "1.0");
        equal(mvn, "1.0a1", "1.0-alpha-1");
        equal(mvn, "1.0-cr1", "1.0-rc1");
        equal(mvn, "1.0-SNAPSHOT", "1.0-snapshot");
    }

    @Test
    void ecosystemsNameTheirScheme() {
        assertThat(VersionScheme.forEcosystem("Debian:12")).contains(DebianVersion.SCHEME);
        assertThat(VersionScheme.forEcosystem("Ubuntu:22.04:LTS")).contains(DebianVersion.SCHEME);
        assertThat(VersionScheme.forEcosystem("Alpine:v3.20")).contains(ApkVersion.SCHEME);
        assertThat(VersionScheme.forEcosystem("PyPI")).contains(Pep440Version.SCHEME);
        assertThat(VersionScheme.forEcosystem("Maven")).contains(MavenVersion.SCHEME);
        assertThat(VersionScheme.forEcosystem("npm")).isEmpty();
    }
}
