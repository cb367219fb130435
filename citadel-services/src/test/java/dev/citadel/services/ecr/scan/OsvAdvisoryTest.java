package dev.citadel.services.ecr.scan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.services.ecr.scan.OsvAdvisory.EventKind;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class OsvAdvisoryTest {
    static OsvAdvisory parse(String json) throws OsvAdvisory.InvalidAdvisoryException {
        return OsvAdvisory.parse(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void readsEveryFixtureAdvisory() {
        assertThat(Fixture.advisories()).extracting(OsvAdvisory::id).containsExactly("ALPINE-CVE-2022-37434", "DEBIAN-CVE-2016-2781",
                "DEBIAN-CVE-2018-25032", "DEBIAN-CVE-2022-48303", "GHSA-jfh8-c2jp-5v3q", "PYSEC-2024-110");
        OsvAdvisory zlib = Fixture.advisory("DEBIAN-CVE-2018-25032");
        assertThat(zlib.modified()).isEqualTo(Instant.parse("2025-11-20T10:13:47.774388Z"));
        assertThat(zlib.upstream()).containsExactly("CVE-2018-25032");
        assertThat(zlib.affected()).hasSize(2);
        OsvAdvisory.Affected bookworm = zlib.affected().get(1);
        assertThat(bookworm.ecosystem()).isEqualTo("Debian:12");
        assertThat(bookworm.name()).isEqualTo("zlib");
        assertThat(bookworm.ecosystemSeverity()).contains("not yet assigned");
        assertThat(bookworm.ranges()).singleElement().satisfies(r -> {
            assertThat(r.type()).isEqualTo("ECOSYSTEM");
            assertThat(r.events()).containsExactly(new OsvAdvisory.Event(EventKind.INTRODUCED, "0"),
                    new OsvAdvisory.Event(EventKind.FIXED, "1:1.2.11.dfsg-4"));
        });
        OsvAdvisory log4j = Fixture.advisory("GHSA-jfh8-c2jp-5v3q");
        assertThat(log4j.databaseSeverity()).contains("CRITICAL");
        assertThat(log4j.aliases()).containsExactly("CVE-2021-44228");
    }

    @Test
    void gitOnlyAffectedEntriesAreDroppedAndUnknownFieldsIgnored() throws Exception {
        OsvAdvisory a = parse("""
                {"id": "OSV-2024-1", "modified": "2024-01-02T03:04:05+01:00", "withdrawn": "2024-02-01T00:00:00Z", "x": [1, {"y": 2}],
                 "affected": [{"ranges": [{"type": "GIT", "repo": "r", "events": [{"introduced": "0"}]}]},
                              {"package": {"ecosystem": "PyPI", "name": "n"}, "ecosystem_specific": {"severity": {"nested": true}}}],
                 "references": [{"url": 42}, {"type": "WEB", "url": "https://example.com"}]}
                """);
        assertThat(a.modified()).isEqualTo(Instant.parse("2024-01-02T02:04:05Z"));
        assertThat(a.withdrawn()).contains(Instant.parse("2024-02-01T00:00:00Z"));
        assertThat(a.affected()).singleElement().satisfies(af -> assertThat(af.ecosystemSeverity()).isEmpty());
        assertThat(a.references()).containsExactly(new OsvAdvisory.Reference("WEB", "https://example.com"));
        assertThat(a.databaseSeverity()).isEqualTo(Optional.empty());
    }

    @Test
    void malformedDocumentsAreRefusedWithAReason() {
        List<String[]> cases = List.of(
                new String[] {"[]", "not a JSON object"},
                new String[] {"{", "not JSON"},
                new String[] {"{\"modified\": \"2024-01-01T00:00:00Z\"}", "no id"},
                new String[] {"{\"id\": \"../../etc\", \"modified\": \"2024-01-01T00:00:00Z\"}", "not an OSV identifier"},
                new String[] {"{\"id\": \"A-1\"}", "no modified time"},
                new String[] {"{\"id\": \"A-1\", \"modified\": \"yesterday\"}", "RFC 3339"},
                new String[] {"{\"id\": \"A-1\", \"id\": \"A-2\", \"modified\": \"2024-01-01T00:00:00Z\"}", "not JSON"},
                new String[] {"{\"id\": \"A-1\", \"modified\": \"2024-01-01T00:00:00Z\", \"affected\": {}}", "affected is not an array"},
                new String[] {"{\"id\": \"A-1\", \"modified\": \"2024-01-01T00:00:00Z\", \"affected\": [{\"package\": {\"name\": \"x\"}}]}",
                        "no ecosystem"},
                new String[] {"{\"id\": \"A-1\", \"modified\": \"2024-01-01T00:00:00Z\", \"affected\": [{\"package\": {\"ecosystem\": \"PyPI\", "
                        + "\"name\": \"x\"}, \"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": \"0\", \"fixed\": \"1\"}]}]}]}",
                        "exactly one"},
                new String[] {"{\"id\": \"A-1\", \"modified\": \"2024-01-01T00:00:00Z\", \"affected\": [{\"package\": {\"ecosystem\": \"PyPI\", "
                        + "\"name\": \"x\"}, \"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": [{\"fixed\": 1}]}]}]}", "fixed is not a string"},
                new String[] {"{\"id\": \"A-1\", \"modified\": \"2024-01-01T00:00:00Z\", \"aliases\": [1]}", "aliases"},
                new String[] {"[".repeat(100) + "]".repeat(100), "not JSON"});
        for (String[] c : cases) {
            assertThatThrownBy(() -> parse(c[0])).as(c[0]).isInstanceOf(OsvAdvisory.InvalidAdvisoryException.class)
                    .hasMessageContaining(c[1]);
        }
    }
}
