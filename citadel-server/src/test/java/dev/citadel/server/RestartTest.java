package dev.citadel.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/** A restart reuses the data directory: the same accounts, keys, CA and client credentials. */
@org.junit.jupiter.api.Tag("runs-once")
class RestartTest {
    @Test
    void restartReusesEverythingTheFirstStartMade() throws Exception {
        TestServer first = TestServer.start();
        String credentials = Files.readString(first.clientFiles().credentialsFile());
        String ca = Files.readString(first.clientFiles().caFile());
        String rootKey = java.util.HexFormat.of().formatHex(Files.readAllBytes(first.dataDir().resolve("keys/root.key")));
        TestServer second = first.restart();
        try {
            assertThat(Files.readString(second.clientFiles().credentialsFile())).isEqualTo(credentials);
            assertThat(Files.readString(second.clientFiles().caFile())).isEqualTo(ca);
            assertThat(java.util.HexFormat.of().formatHex(Files.readAllBytes(second.dataDir().resolve("keys/root.key")))).isEqualTo(rootKey);
            assertThat(Files.readString(second.clientFiles().configFile())).contains("endpoint_url = https://localhost:" + second.port());
            assertThat(second.citadel().banner()).doesNotContain("created now").doesNotContain(credentials.lines()
                    .filter(l -> l.startsWith("aws_secret_access_key")).findFirst().orElseThrow().split("=")[1].strip());
        } finally {
            second.close();
        }
    }

    @Test
    void firstStartBannerNamesTheFilesAndNoSecret() throws Exception {
        try (TestServer server = TestServer.start()) {
            String secret = Files.readAllLines(server.clientFiles().credentialsFile()).stream()
                    .filter(l -> l.startsWith("aws_secret_access_key")).findFirst().orElseThrow().split("=")[1].strip();
            assertThat(server.citadel().banner()).contains(server.clientFiles().envFile().toString()).doesNotContain(secret);
        }
    }

    @Test
    void rootKeyReadableByOthersStopsTheStart() throws Exception {
        TestServer first = TestServer.start();
        first.stop();
        Files.setPosixFilePermissions(first.dataDir().resolve("keys/root.key"), java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        org.assertj.core.api.Assertions.assertThatThrownBy(first::restart).hasMessageContaining("chmod 600");
        Files.setPosixFilePermissions(first.dataDir().resolve("keys/root.key"), java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        first.restart().close();
    }
}
