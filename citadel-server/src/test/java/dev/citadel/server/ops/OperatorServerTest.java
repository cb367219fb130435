package dev.citadel.server.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import dev.citadel.core.SecretBytes;
import dev.citadel.server.acceptance.ClientEnvironment;
import dev.citadel.server.http.TlsContexts;
import dev.citadel.server.tls.LocalCertificateAuthority;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator listener as it runs off loopback: TLS with the API's certificate and a bearer
 * token, plain HTTP refused; and the readiness report it serves.
 */
class OperatorServerTest {
    private static final String TOKEN = "f".repeat(20) + "0123456789abcdef";

    @TempDir
    Path dir;

    @Test
    void withTlsItAnswersOnlyOverTlsAndOnlyWithTheToken() throws Exception {
        LocalCertificateAuthority ca = new LocalCertificateAuthority(dir.resolve("tls"), new SecureRandom());
        ca.ensure(List.of());
        Readiness readiness = new Readiness(List.of(new Readiness.Check("always", true, Optional::empty)), Duration.ofSeconds(1));
        try (OperatorServer server = new OperatorServer(new InetSocketAddress("127.0.0.1", 0),
                Optional.of(TlsContexts.server(ca.serverCertificateFile(), ca.serverKeyFile())), Optional.of(SecretBytes.ofUtf8(TOKEN)),
                () -> "citadel_test 1.0\n", readiness::check); readiness) {
            server.start();
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(null, ClientEnvironment.trustManagers(ca.caCertificateFile()), null);
            HttpClient https = HttpClient.newBuilder().sslContext(tls).version(HttpClient.Version.HTTP_1_1).build();
            URI metrics = URI.create("https://localhost:" + server.port() + OperatorServer.METRICS);

            HttpResponse<String> ok = https.send(HttpRequest.newBuilder(metrics).header("Authorization", "Bearer " + TOKEN).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(ok.statusCode()).isEqualTo(200);
            assertThat(ok.body()).isEqualTo("citadel_test 1.0\n");
            assertThat(https.send(HttpRequest.newBuilder(metrics).build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(401);
            HttpResponse<String> ready = https.send(HttpRequest.newBuilder(URI.create("https://localhost:" + server.port() + OperatorServer.READY))
                    .header("Authorization", "Bearer " + TOKEN).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(ready.body()).isEqualTo("{\"status\":\"ready\",\"checks\":{\"always\":\"ok\"}}");

            HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            URI cleartext = URI.create("http://127.0.0.1:" + server.port() + OperatorServer.METRICS);
            assertThatThrownBy(() -> plain.send(HttpRequest.newBuilder(cleartext).header("Authorization", "Bearer " + TOKEN)
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()))
                    .isInstanceOf(java.io.IOException.class);
        }
    }

    @Test
    void aFailedRequiredCheckMakesItNotReadyAndAnOptionalOneOnlyDegraded() {
        try (Readiness readiness = new Readiness(List.of(
                new Readiness.Check("store", true, () -> Optional.of("connection refused to db.internal:5432")),
                new Readiness.Check("slow", true, () -> {
                    Thread.sleep(5_000);
                    return Optional.empty();
                }),
                new Readiness.Check("sandbox", false, () -> Optional.of("runc is missing"))), Duration.ofMillis(300))) {
            Readiness.Report report = readiness.check();
            assertThat(report.ready()).isFalse();
            assertThat(report.checks()).containsExactly(entry("store", "failed"), entry("slow", "failed"), entry("sandbox", "degraded"));
            assertThat(report.json()).doesNotContain("db.internal").doesNotContain("runc");
        }
        try (Readiness degraded = new Readiness(List.of(new Readiness.Check("sandbox", false, () -> Optional.of("runc is missing"))),
                Duration.ofSeconds(1))) {
            assertThat(degraded.check().ready()).isTrue();
        }
    }
}
