package dev.citadel.server.acceptance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.server.TestServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The listener's limits: header size, body size, idle time. */
class LimitsTest {
    private static TestServer server;
    private static RawClient client;

    @BeforeAll
    static void start() {
        server = TestServer.start("http.max-header-bytes=4096", "http.max-body-bytes=2048", "http.idle-timeout=1s");
        client = new RawClient(server);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static SSLSocket connect() throws Exception {
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(null, ClientEnvironment.trustManagers(server.clientFiles().caFile()), null);
        SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket("localhost", server.port());
        s.setSoTimeout(10_000);
        s.startHandshake();
        return s;
    }

    @Test
    void oversizedHeadersAreRefused() throws Exception {
        try (SSLSocket s = connect()) {
            OutputStream out = s.getOutputStream();
            out.write(("POST / HTTP/1.1\r\nHost: localhost\r\nX-Big: " + "a".repeat(8000) + "\r\nContent-Length: 0\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String status = new String(s.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
            assertThat(status).isEqualTo("HTTP/1.1 431");
        }
    }

    /** Organizations operations accept 256 KiB, their spec's own limit, whatever the server default. */
    @Test
    void bodyOverTheOperationLimitIsRefusedBeforeItIsRead() throws Exception {
        String reply = headersOnly("organizations", RawClient.organizations("CreateAccount"), "{\"AccountName\":\"" + "a".repeat(300 * 1024) + "\"}");
        assertThat(reply).startsWith("HTTP/1.1 413").contains("RequestEntityTooLarge");
    }

    @Test
    void bodyOverTheServerDefaultIsRefusedForOperationsWithoutALimitOfTheirOwn() throws Exception {
        String reply = headersOnly("sts", RawClient.sts(), "Action=GetCallerIdentity&Version=2011-06-15&Pad=" + "a".repeat(70 * 1024));
        assertThat(reply).startsWith("HTTP/1.1 413");
    }

    /**
     * Sends a signed request's headers and declared length but none of its body, and returns the
     * reply: the refusal must come from the declared length alone, before any of the body exists (a
     * client still writing a body the server will not read can otherwise see the connection reset
     * under the reply).
     */
    private static String headersOnly(String service, Map<String, String> serviceHeaders, String body) throws Exception {
        Map<String, String> headers = new java.util.LinkedHashMap<>(serviceHeaders);
        headers.put("host", client.host());
        Map<String, String> signed = new dev.citadel.auth.SigV4Signer(client.accessKeyId, client.secret, "us-east-1", service)
                .signHeaders("POST", "/", "", headers, dev.citadel.auth.SigV4.sha256Hex(body.getBytes(StandardCharsets.UTF_8)), java.time.Instant.now());
        try (SSLSocket s = connect()) {
            StringBuilder request = new StringBuilder("POST / HTTP/1.1\r\n");
            signed.forEach((k, v) -> request.append(k).append(": ").append(v).append("\r\n"));
            request.append("Content-Length: ").append(body.length()).append("\r\n\r\n");
            s.getOutputStream().write(request.toString().getBytes(StandardCharsets.UTF_8));
            s.getOutputStream().flush();
            return new String(s.getInputStream().readNBytes(4096), StandardCharsets.UTF_8);
        }
    }

    @Test
    void idleConnectionIsClosed() throws Exception {
        try (SSLSocket s = connect()) {
            long start = System.nanoTime();
            InputStream in = s.getInputStream();
            int read = in.read();
            long seconds = (System.nanoTime() - start) / 1_000_000_000L;
            assertThat(read).isEqualTo(-1);
            assertThat(seconds).isLessThan(8);
        }
    }
}
