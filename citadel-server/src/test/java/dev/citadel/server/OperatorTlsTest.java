package dev.citadel.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.server.config.ConfigException;
import dev.citadel.server.tls.LocalCertificateAuthority;
import dev.citadel.server.tls.Pem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An operator's own certificate and key replace the local CA; broken ones stop the start with a clear message. */
class OperatorTlsTest {
    @TempDir
    Path dir;

    @Test
    void operatorCertificateIsServedAndNoLocalCaIsMade() throws Exception {
        LocalCertificateAuthority elsewhere = new LocalCertificateAuthority(dir.resolve("operator"), new SecureRandom());
        elsewhere.ensure(List.of("citadel.example.com"));
        try (TestServer server = TestServer.start("tls.certificate=" + elsewhere.serverCertificateFile(),
                "tls.private-key=" + elsewhere.serverKeyFile())) {
            assertThat(Files.exists(server.dataDir().resolve("tls/ca.pem"))).isFalse();
            assertThat(Pem.readCertificates(server.clientFiles().caFile())).hasSize(2);
            assertThat(new dev.citadel.server.acceptance.ClientEnvironmentProbe(server).callerIdentityStatus()).isEqualTo(200);
        }
    }

    @Test
    void unreadableKeyStopsTheStart() throws Exception {
        LocalCertificateAuthority elsewhere = new LocalCertificateAuthority(dir.resolve("operator"), new SecureRandom());
        elsewhere.ensure(List.of());
        Path garbage = dir.resolve("garbage.pem");
        Files.writeString(garbage, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
        assertThatThrownBy(() -> TestServer.start("tls.certificate=" + elsewhere.serverCertificateFile(), "tls.private-key=" + garbage))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("cannot read a private key from " + garbage)
                .hasMessageNotContaining("AAAA");
    }
}
