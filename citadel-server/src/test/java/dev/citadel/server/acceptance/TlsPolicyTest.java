package dev.citadel.server.acceptance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.server.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The listener's TLS policy, checked from outside with OpenSSL's client and testssl.sh. */
class TlsPolicyTest {
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static Handshake sClient(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + server.port(),
                "-servername", "localhost", "-CAfile", server.clientFiles().caFile().toString(), "-verify_return_error"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return new Handshake(p.exitValue(), out);
    }

    private record Handshake(int exitCode, String output) {
        boolean established() {
            return exitCode == 0 && output.contains("Verify return code: 0 (ok)") && !output.contains("Cipher is (NONE)");
        }
    }

    @Test
    void tls13Handshakes() throws Exception {
        Handshake h = sClient("-tls1_3");
        assertThat(h.established()).as(h.output()).isTrue();
        assertThat(h.output()).contains("TLSv1.3");
    }

    @Test
    void tls12WithForwardSecretAeadSuiteHandshakes() throws Exception {
        Handshake h = sClient("-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256");
        assertThat(h.established()).as(h.output()).isTrue();
    }

    @Test
    void tls11IsRefused() throws Exception {
        Handshake h = sClient("-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0");
        assertThat(h.established()).as(h.output()).isFalse();
    }

    @Test
    void tls10IsRefused() throws Exception {
        Handshake h = sClient("-tls1", "-cipher", "DEFAULT:@SECLEVEL=0");
        assertThat(h.established()).as(h.output()).isFalse();
    }

    @Test
    void nonForwardSecretSuiteIsRefused() throws Exception {
        Handshake h = sClient("-tls1_2", "-cipher", "AES128-GCM-SHA256");
        assertThat(h.established()).as(h.output()).isFalse();
    }

    @Test
    void cbcSuiteIsRefused() throws Exception {
        Handshake h = sClient("-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA");
        assertThat(h.established()).as(h.output()).isFalse();
    }

    /** testssl.sh (Debian) finds no protocol below TLS 1.2 and only forward-secret suites. */
    @Test
    void testsslFindsOnlyTls12And13WithForwardSecrecy() throws Exception {
        Path testssl = Path.of("/usr/bin/testssl");
        assertThat(testssl).as("testssl.sh missing: run ./citadel test (it installs Debian's testssl.sh) or apt-get install testssl.sh")
                .isExecutable();
        Path json = Files.createTempFile("testssl", ".json");
        Files.delete(json);
        Process p = new ProcessBuilder(testssl.toString(), "--quiet", "--color", "0", "--warnings", "off", "--protocols",
                "--each-cipher", "--fs", "--jsonfile", json.toString(), "127.0.0.1:" + server.port())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assertThat(p.waitFor(8, TimeUnit.MINUTES)).as("testssl.sh did not finish in 8 minutes").isTrue();
        String report = Files.readString(json);
        Files.deleteIfExists(json);
        var findings = new com.fasterxml.jackson.databind.ObjectMapper().readTree(report);
        java.util.Map<String, String> byId = new java.util.HashMap<>();
        List<String> ciphers = new ArrayList<>();
        for (var f : findings) {
            byId.put(f.path("id").asText(), f.path("finding").asText());
            if (f.path("id").asText().startsWith("cipher_x")) {
                ciphers.add(f.path("finding").asText());
            }
        }
        assertThat(byId.get("SSLv2")).contains("not offered");
        assertThat(byId.get("SSLv3")).contains("not offered");
        assertThat(byId.get("TLS1")).contains("not offered");
        assertThat(byId.get("TLS1_1")).contains("not offered");
        assertThat(byId.get("TLS1_2")).contains("offered");
        assertThat(byId.get("TLS1_3")).contains("offered");
        assertThat(ciphers).as("ciphers testssl found").isNotEmpty();
        for (String c : ciphers) {
            assertThat(c).as("every offered suite is forward-secret AEAD").containsAnyOf("ECDH", "TLS_AES", "TLS_CHACHA20");
            assertThat(c).doesNotContain("CBC").doesNotContain("SHA1 ");
        }
    }
}
