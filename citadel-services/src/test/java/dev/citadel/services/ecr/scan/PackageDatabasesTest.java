package dev.citadel.services.ecr.scan;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The package database parsers on small samples and on this Debian host's own dpkg database. */
class PackageDatabasesTest {
    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void dpkgKeepsInstalledPackagesWithTheirSource() {
        String status = """
                Package: libssl3
                Status: install ok installed
                Architecture: amd64
                Source: openssl
                Version: 3.0.19-1~deb12u2
                Description: Secure Sockets Layer toolkit
                 Source: not-a-field
                 .
                 continuation lines are skipped

                Package: gcc
                STATUS: hold ok installed
                Version: 4:12.2.0-3
                Source: gcc-defaults (1.203)

                Package: removed
                Status: deinstall ok config-files
                Version: 1.0

                Package: half
                Status: install ok half-configured
                Version: 1.0

                Package: noversion
                Status: install ok installed

                Package: bash
                Status: install ok installed
                Version: 5.2.15-2+b8
                Source: bash (5.2.15-2)
                """;
        assertThat(DpkgStatus.parse(utf8(status), true)).containsExactly(
                new DpkgStatus.Entry("libssl3", "3.0.19-1~deb12u2", "amd64", Optional.of("openssl"), Optional.empty()),
                new DpkgStatus.Entry("gcc", "4:12.2.0-3", "", Optional.of("gcc-defaults"), Optional.of("1.203")),
                new DpkgStatus.Entry("bash", "5.2.15-2+b8", "", Optional.of("bash"), Optional.of("5.2.15-2")));
    }

    @Test
    void distrolessStatusFilesHaveNoStatusField() {
        byte[] part = utf8("Package: base-files\r\nVersion: 12.4+deb12u5\r\nArchitecture: amd64\r\n");
        assertThat(DpkgStatus.parse(part, false)).extracting(DpkgStatus.Entry::name).containsExactly("base-files");
        assertThat(DpkgStatus.parse(part, true)).isEmpty();
    }

    /** Every package {@code dpkg-query} reports installed on this host, with its version and source, and nothing else. */
    @Test
    void thisHostsDpkgDatabaseReadsAsDpkgQuerySaysIt() throws Exception {
        Process p = new ProcessBuilder("dpkg-query", "-W", "-f", "${db:Status-Status} ${Package} ${Version} ${source:Package} ${source:Version}\\n")
                .redirectErrorStream(true).start();
        List<String> expected = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines()
                .filter(l -> l.startsWith("installed ")).map(l -> l.substring("installed ".length())).sorted().toList();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(expected).as("dpkg-query must run on this Debian host (apt-get install dpkg)").isNotEmpty();
        List<String> ours = DpkgStatus.parse(Files.readAllBytes(Path.of("/var/lib/dpkg/status")), true).stream()
                .map(e -> e.name() + " " + e.version() + " " + e.sourceName().orElse(e.name()) + " " + e.sourceVersion().orElse(e.version()))
                .sorted().toList();
        assertThat(ours).isEqualTo(expected);
    }

    @Test
    void apkReadsPackagesOriginsAndOwnedLanguageFiles() {
        String db = """
                C:Q1abc=
                P:libcrypto3
                V:3.1.4-r5
                A:x86_64
                o:openssl
                F:usr/lib
                R:libcrypto.so.3

                P:py3-six
                V:1.16.0-r9
                o:py3-six
                F:usr/lib/python3.11/site-packages/six-1.16.0.dist-info
                R:METADATA
                R:RECORD

                P:broken
                """;
        ApkDatabase.Result r = ApkDatabase.parse(utf8(db));
        assertThat(r.packages()).containsExactly(new ApkDatabase.Entry("libcrypto3", "3.1.4-r5", "x86_64", Optional.of("openssl")),
                new ApkDatabase.Entry("py3-six", "1.16.0-r9", "", Optional.of("py3-six")));
        assertThat(r.ownedLanguageFiles()).isEqualTo(Set.of("usr/lib/python3.11/site-packages/six-1.16.0.dist-info/METADATA"));
    }

    @Test
    void pythonMetadataReadsTheFirstNameAndVersionOfTheHeader() {
        assertThat(PythonMetadata.parse(utf8("Metadata-Version: 2.1\nName: scikit-learn\nVersion: 1.2.1\nName: other\n\nVersion: 9\n")))
                .contains(new PythonMetadata.Distribution("scikit-learn", "1.2.1"));
        assertThat(PythonMetadata.parse(utf8("Name: -bad-\nVersion: 1\n"))).isEmpty();
        assertThat(PythonMetadata.parse(utf8("Name: ok\n"))).isEmpty();
        assertThat(PythonMetadata.normalise("Scikit__Learn.x")).isEqualTo("scikit-learn-x");
    }

    @Test
    void pomPropertiesNameTheArtifact() {
        assertThat(PomProperties.parse(utf8("#Generated\nversion=2.14.1\ngroupId=org.apache.logging.log4j\nartifactId=log4j-core\n")))
                .map(PomProperties.Artifact::name).contains("org.apache.logging.log4j:log4j-core");
        assertThat(PomProperties.parse(utf8("groupId=g\nartifactId=a b\nversion=1\n"))).isEmpty();
        assertThat(PomProperties.parse(utf8("groupId=g\\u12\nartifactId=a\nversion=1\n"))).isEmpty();
    }

    @Test
    void osReleaseAndTheEcosystemsItNames() {
        OsRelease debian = OsRelease.parse(utf8("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n"));
        assertThat(debian).isEqualTo(new OsRelease("debian", "12", "", "Debian GNU/Linux 12 (bookworm)"));
        assertThat(Inventory.debianEcosystem(Optional.of(debian), Optional.empty())).isEqualTo("Debian:12");
        assertThat(Inventory.debianEcosystem(Optional.empty(), Optional.of(utf8("12.5\n")))).isEqualTo("Debian:12");
        assertThat(Inventory.debianEcosystem(Optional.empty(), Optional.of(utf8("trixie/sid\n")))).isEqualTo("Debian");
        OsRelease ubuntu = OsRelease.parse(utf8("ID=ubuntu\nVERSION_ID=\"22.04\"\nVERSION=\"22.04.4 LTS (Jammy Jellyfish)\"\n"));
        assertThat(Inventory.debianEcosystem(Optional.of(ubuntu), Optional.empty())).isEqualTo("Ubuntu:22.04:LTS");
        OsRelease alpine = OsRelease.parse(utf8("ID=alpine\nVERSION_ID=3.11.13\n"));
        assertThat(Inventory.alpineEcosystem(Optional.of(alpine), Optional.empty())).isEqualTo("Alpine:v3.11");
        assertThat(Inventory.alpineEcosystem(Optional.empty(), Optional.of(utf8("3.20.3\n")))).isEqualTo("Alpine:v3.20");
        assertThat(Inventory.alpineEcosystem(Optional.empty(), Optional.empty())).isEqualTo("Alpine");
    }
}
