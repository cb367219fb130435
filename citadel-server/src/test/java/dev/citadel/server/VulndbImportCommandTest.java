package dev.citadel.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.metadata.MetadataStore;
import dev.citadel.metadata.ecr.VulnerabilityRepository;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code citadel vulndb import}: what it prints, its exit codes, and what it leaves in the configured metadata store. */
class VulndbImportCommandTest {
    private static final String ADVISORY = """
            {"id": "DEBIAN-CVE-2016-2781", "modified": "2025-11-20T10:14:02Z", "upstream": ["CVE-2016-2781"],
             "details": "chroot in GNU coreutils, when used with --userspec, allows local users to escape to the parent session.",
             "affected": [{"package": {"ecosystem": "Debian:12", "name": "coreutils"},
                           "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}], "ecosystem_specific": {"urgency": "low"}}]}
            """;

    record Run(int exit, String out, String err) {
    }

    static Run citadel(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int exit = new CommandLine(new CitadelMain()).execute(args);
            return new Run(exit, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @Test
    void importsIntoTheConfiguredStoreOnceAndReportsRejections(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("data");
        Path osv = Files.createDirectories(dir.resolve("osv"));
        Files.writeString(osv.resolve("DEBIAN-CVE-2016-2781.json"), ADVISORY);

        Run first = citadel("vulndb", "import", "--data-dir", data.toString(), osv.toString());
        assertThat(first.exit()).as(first.err()).isZero();
        assertThat(first.out()).isEqualTo("1 advisories added, 0 updated, 0 ignored (the stored ones are as new), 0 rejected; 1 files read\n");

        Files.writeString(osv.resolve("broken.json"), "{\"id\": \"X-1\", \"modified\": \"soon\"}");
        Run second = citadel("vulndb", "import", "--data-dir", data.toString(), osv.toString());
        assertThat(second.exit()).isEqualTo(1);
        assertThat(second.out()).startsWith("0 advisories added, 0 updated, 1 ignored");
        assertThat(second.err()).contains("rejected " + osv.resolve("broken.json") + ": modified is not an RFC 3339 time");

        try (MetadataStore store = MetadataStore.open(CitadelMain.configure(data, null, null, List.of()).metadata())) {
            assertThat(store.<Long>read(h -> new VulnerabilityRepository(h).count())).isEqualTo(1);
        }
    }

    @Test
    void aPathIsRequired() {
        Run run = citadel("vulndb", "import");
        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err()).contains("Missing required parameter: 'PATH'");
    }
}
