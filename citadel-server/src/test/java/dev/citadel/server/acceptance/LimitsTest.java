package dev.citadel.server.acceptance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.server.TestServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
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
        String big = "{\"AccountName\":\"" + "a".repeat(300 * 1024) + "\"}";
        RawClient.Reply r = client.post("organizations", RawClient.organizations("CreateAccount"), big);
        assertThat(r.status()).as(r.body()).isEqualTo(413);
        assertThat(r.body()).contains("RequestEntityTooLarge");
    }

    @Test
    void bodyOverTheServerDefaultIsRefusedForOperationsWithoutALimitOfTheirOwn() {
        RawClient.Reply r = client.post("sts", RawClient.sts(), "Action=GetCallerIdentity&Version=2011-06-15&Pad=" + "a".repeat(70 * 1024));
        assertThat(r.status()).as(r.body()).isEqualTo(413);
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
