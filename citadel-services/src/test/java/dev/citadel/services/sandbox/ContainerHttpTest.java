package dev.citadel.services.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ContainerHttp} against an in-process fake container: a Unix socket (as the runc bridge
 * gives) whose every connection reads requests and answers what the test scripts, byte for byte.
 */
class ContainerHttpTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    @TempDir
    Path dir;

    private FakeContainer container;
    private ContainerHttp http;

    @AfterEach
    void tearDown() throws IOException {
        if (http != null) {
            http.close();
        }
        if (container != null) {
            container.close();
        }
    }

    /** What the fake answers to the n-th request (0-based) on a connection: bytes, then whether to close. */
    interface Script {
        Answer answer(String request, int indexOnConnection) throws Exception;
    }

    record Answer(byte[] bytes, boolean closeAfter, long delayMillis) {
        static Answer of(String text) {
            return new Answer(text.getBytes(StandardCharsets.ISO_8859_1), false, 0);
        }

        static Answer closing(String text) {
            return new Answer(text.getBytes(StandardCharsets.ISO_8859_1), true, 0);
        }
    }

    /** A fake serving container on a Unix socket; counts the connections it accepted and keeps the requests. */
    static final class FakeContainer implements Execution, AutoCloseable {
        final ServerSocketChannel server;
        final AtomicInteger connections = new AtomicInteger();
        final List<String> requests = new CopyOnWriteArrayList<>();
        final List<SocketChannel> open = new CopyOnWriteArrayList<>();
        final Path socket;
        volatile Script script;

        FakeContainer(Path socket, Script script) throws IOException {
            this.socket = socket;
            this.script = script;
            server = ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(socket));
            Thread.ofVirtual().start(this::accept);
        }

        private void accept() {
            try {
                while (true) {
                    SocketChannel c = server.accept();
                    connections.incrementAndGet();
                    open.add(c);
                    Thread.ofVirtual().start(() -> serve(c));
                }
            } catch (IOException e) {
                // closed
            }
        }

        private void serve(SocketChannel c) {
            try (c) {
                for (int n = 0; ; n++) {
                    String request = readRequest(c);
                    if (request == null) {
                        return;
                    }
                    requests.add(request);
                    Answer a = script.answer(request, n);
                    if (a.delayMillis() > 0) {
                        Thread.sleep(a.delayMillis());
                    }
                    ByteBuffer b = ByteBuffer.wrap(a.bytes());
                    while (b.hasRemaining()) {
                        c.write(b);
                    }
                    if (a.closeAfter()) {
                        return;
                    }
                }
            } catch (Exception e) {
                // the client went away
            }
        }

        /** A request: head up to the empty line, then Content-Length bytes; null at the end of the stream. */
        private static String readRequest(SocketChannel c) throws IOException {
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            ByteBuffer one = ByteBuffer.allocate(1);
            while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                one.clear();
                if (c.read(one) < 0) {
                    return null;
                }
                head.write(one.array()[0]);
            }
            String h = head.toString(StandardCharsets.ISO_8859_1);
            int length = 0;
            for (String line : h.split("\r\n")) {
                if (line.toLowerCase().startsWith("content-length:")) {
                    length = Integer.parseInt(line.substring(15).strip());
                }
            }
            ByteBuffer body = ByteBuffer.allocate(length);
            while (body.hasRemaining()) {
                if (c.read(body) < 0) {
                    return null;
                }
            }
            return h + new String(body.array(), StandardCharsets.ISO_8859_1);
        }

        @Override
        public String id() {
            return "fake";
        }

        @Override
        public CompletableFuture<Exit> exit() {
            return new CompletableFuture<>();
        }

        @Override
        public void stop(Duration grace) {
        }

        @Override
        public ByteChannel connect(int port) throws IOException {
            return SocketChannel.open(UnixDomainSocketAddress.of(socket));
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (SocketChannel c : open) {
                c.close();
            }
        }
    }

    private ContainerHttp start(Script script, int maxIdle) throws IOException {
        container = new FakeContainer(dir.resolve("port-8080.sock"), script);
        http = new ContainerHttp(container, 8080, maxIdle);
        return http;
    }

    private static ContainerHttp.Request get(String path) {
        return new ContainerHttp.Request("GET", path, Map.of(), null);
    }

    private static String ok(String body) {
        return "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
    }

    @Test
    void aWellFormedResponseIsReadWithLowerCasedHeaders() throws IOException {
        start((r, n) -> Answer.of("HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nX-Amzn-Invoked-Production-Variant: a\r\n"
                + "Content-Length: 4\r\n\r\n1\n0\n"), 2);

        ContainerHttp.Response r = http.exchange(new ContainerHttp.Request("POST", "/invocations",
                Map.of("Content-Type", "text/csv", "Accept", "text/csv"), "1,2\n3,4\n".getBytes(StandardCharsets.US_ASCII)), TIMEOUT, 1000);

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.headers()).containsEntry("content-type", "text/csv").containsEntry("x-amzn-invoked-production-variant", "a");
        assertThat(new String(r.body(), StandardCharsets.US_ASCII)).isEqualTo("1\n0\n");
        String sent = container.requests.getFirst();
        assertThat(sent).startsWith("POST /invocations HTTP/1.1\r\nHost: localhost\r\nContent-Length: 8\r\n")
                .contains("Content-Type: text/csv\r\n").contains("Accept: text/csv\r\n").endsWith("\r\n\r\n1,2\n3,4\n");
    }

    @Test
    void aGetCarriesHostAndAZeroContentLength() throws IOException {
        start((r, n) -> Answer.of(ok("")), 1);

        assertThat(http.exchange(get("/ping"), TIMEOUT, 10).status()).isEqualTo(200);

        assertThat(container.requests.getFirst()).isEqualTo("GET /ping HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n");
    }

    @Test
    void aChunkedBodyIsJoinedAndItsExtensionsAndTrailersSkipped() throws IOException {
        start((r, n) -> Answer.of("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5;name=value\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\nY: u\r\n\r\n"), 1);

        ContainerHttp.Response r = http.exchange(get("/"), TIMEOUT, 100);
        ContainerHttp.Response again = http.exchange(get("/"), TIMEOUT, 100);

        assertThat(new String(r.body(), StandardCharsets.US_ASCII)).isEqualTo("hello 0123456789");
        assertThat(r.headers()).doesNotContainKey("x-trailer");
        assertThat(again.body()).isEqualTo(r.body());
        assertThat(container.connections).hasValue(1);
    }

    @Test
    void keepAliveConnectionsAreReused() throws IOException {
        start((r, n) -> Answer.of(ok("pong " + n)), 2);

        for (int i = 0; i < 5; i++) {
            assertThat(new String(http.exchange(get("/ping"), TIMEOUT, 100).body(), StandardCharsets.US_ASCII)).isEqualTo("pong " + i);
        }

        assertThat(container.connections).hasValue(1);
        assertThat(http.idleConnections()).isEqualTo(1);
    }

    @Test
    void connectionCloseReadsToTheEndAndIsNotReused() throws IOException {
        start((r, n) -> Answer.closing("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end"), 2);

        ContainerHttp.Response first = http.exchange(get("/"), TIMEOUT, 100);
        http.exchange(get("/"), TIMEOUT, 100);

        assertThat(new String(first.body(), StandardCharsets.US_ASCII)).isEqualTo("until the end");
        assertThat(container.connections).hasValue(2);
        assertThat(http.idleConnections()).isZero();
    }

    @Test
    void http10WithoutKeepAliveIsNotReused() throws IOException {
        start((r, n) -> Answer.closing("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"), 2);

        http.exchange(get("/"), TIMEOUT, 100);
        http.exchange(get("/"), TIMEOUT, 100);

        assertThat(container.connections).hasValue(2);
    }

    @Test
    void headAnd204And304HaveNoBody() throws IOException {
        start((r, n) -> Answer.of(r.startsWith("HEAD") ? "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
                : r.startsWith("GET /a") ? "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n" : "HTTP/1.1 304 Not Modified\r\n\r\n"), 1);

        assertThat(http.exchange(new ContainerHttp.Request("HEAD", "/", Map.of(), null), TIMEOUT, 10).body()).isEmpty();
        assertThat(http.exchange(get("/a"), TIMEOUT, 10).status()).isEqualTo(204);
        assertThat(http.exchange(get("/b"), TIMEOUT, 10).status()).isEqualTo(304);
        assertThat(container.connections).hasValue(1);
    }

    @Test
    void interimResponsesAreSkipped() throws IOException {
        start((r, n) -> Answer.of("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n" + ok("done")), 1);

        ContainerHttp.Response r = http.exchange(get("/"), TIMEOUT, 100);

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).asString().isEqualTo("done");
    }

    @Test
    void headersBeyond64KiBAreRefused() throws IOException {
        String big = "X-Big: " + "a".repeat(ContainerHttp.MAX_HEADER_BYTES) + "\r\n";
        start((r, n) -> Answer.closing("HTTP/1.1 200 OK\r\n" + big + "Content-Length: 0\r\n\r\n"), 1);

        assertThatThrownBy(() -> http.exchange(get("/"), TIMEOUT, 100)).isInstanceOf(ContainerHttp.ProtocolException.class)
                .hasMessageContaining("exceed 65536 bytes");
    }

    @Test
    void manySmallHeadersAddingUpBeyond64KiBAreRefused() throws IOException {
        String line = "X-A: " + "b".repeat(1000) + "\r\n";
        start((r, n) -> Answer.closing("HTTP/1.1 200 OK\r\n" + line.repeat(70) + "Content-Length: 0\r\n\r\n"), 1);

        assertThatThrownBy(() -> http.exchange(get("/"), TIMEOUT, 100)).isInstanceOf(ContainerHttp.ProtocolException.class);
    }

    @Test
    void moreThan100HeadersAreRefused() throws IOException {
        StringBuilder many = new StringBuilder();
        for (int i = 0; i <= ContainerHttp.MAX_HEADERS; i++) {
            many.append("X-").append(i).append(": v\r\n");
        }
        start((r, n) -> Answer.closing("HTTP/1.1 200 OK\r\n" + many + "Content-Length: 0\r\n\r\n"), 1);

        assertThatThrownBy(() -> http.exchange(get("/"), TIMEOUT, 100)).isInstanceOf(ContainerHttp.ProtocolException.class)
                .hasMessageContaining("more than 100 headers");
    }

    @Test
    void aBodyBeyondTheLimitIsRefusedWhateverItsFraming() throws IOException {
        start((r, n) -> switch (r.split(" ")[1]) {
            case "/length" -> Answer.closing("HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n");
            case "/chunked" -> Answer.closing("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n");
            case "/hugechunk" -> Answer.closing("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\n");
            default -> Answer.closing("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + "x".repeat(11));
        }, 1);

        for (String path : List.of("/length", "/chunked", "/hugechunk", "/eof")) {
            assertThatThrownBy(() -> http.exchange(get(path), TIMEOUT, 10)).as(path).isInstanceOf(ContainerHttp.ProtocolException.class)
                    .hasMessageContaining("larger than 10 bytes");
        }
    }

    @Test
    void aSlowResponseTimesOutAndItsConnectionIsDropped() throws IOException {
        start((r, n) -> new Answer(ok("late").getBytes(StandardCharsets.US_ASCII), false, 3000), 1);

        long started = System.nanoTime();
        assertThatThrownBy(() -> http.exchange(get("/"), Duration.ofMillis(300), 100)).isInstanceOf(HttpTimeoutException.class);
        long elapsedMillis = (System.nanoTime() - started) / 1_000_000;

        assertThat(elapsedMillis).isBetween(250L, 1500L);
        assertThat(http.idleConnections()).isZero();
    }

    @Test
    void aResponseTricklingInDoesNotOutliveTheTimeout() throws IOException {
        container = new FakeContainer(dir.resolve("port-8080.sock"), null);
        container.script = (r, n) -> {
            // A byte every 100 ms: each read makes progress, the exchange as a whole must still end.
            SocketChannel c = container.open.getLast();
            for (byte b : "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n".getBytes(StandardCharsets.US_ASCII)) {
                c.write(ByteBuffer.wrap(new byte[] {b}));
                Thread.sleep(100);
            }
            return Answer.of("");
        };
        http = new ContainerHttp(container, 8080, 1);

        long started = System.nanoTime();
        assertThatThrownBy(() -> http.exchange(get("/"), Duration.ofMillis(700), 1000)).isInstanceOf(HttpTimeoutException.class);

        assertThat((System.nanoTime() - started) / 1_000_000).isLessThan(2000L);
    }

    @Test
    void garbageIsAProtocolError() throws IOException {
        Map<String, String> answers = Map.of(
                "/notHttp", "HELLO WORLD\r\n\r\n",
                "/badStatus", "HTTP/1.1 2x0 OK\r\n\r\n",
                "/bareCr", "HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 0\r\n\r\n",
                "/fold", "HTTP/1.1 200 OK\r\nX: a\r\n folded\r\nContent-Length: 0\r\n\r\n",
                "/both", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                "/gzip", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
                "/conflict", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
                "/truncated", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
                "/badChunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                "/switch", "HTTP/1.1 101 Switching Protocols\r\n\r\n");
        start((r, n) -> Answer.closing(answers.get(r.split(" ")[1])), 1);

        for (String path : answers.keySet()) {
            assertThatThrownBy(() -> http.exchange(get(path), TIMEOUT, 100)).as(path).isInstanceOf(ContainerHttp.ProtocolException.class);
        }
    }

    @Test
    void aConnectionClosedWithoutAnAnswerIsAnIoErrorNotAProtocolError() throws IOException {
        start((r, n) -> Answer.closing(""), 1);

        assertThatThrownBy(() -> http.exchange(get("/"), TIMEOUT, 100)).isInstanceOf(IOException.class)
                .isNotInstanceOf(ContainerHttp.ProtocolException.class).hasMessageContaining("without answering");
    }

    @Test
    void bytesBeyondTheResponseKeepTheConnectionOutOfThePool() throws IOException {
        start((r, n) -> Answer.of(ok("a") + "HTTP/1.1 200 OK\r\n"), 1);

        http.exchange(get("/"), TIMEOUT, 100);

        assertThat(http.idleConnections()).isZero();
    }

    @Test
    void aPooledConnectionTheContainerClosedIsReplacedOnce() throws IOException {
        // Answers keep-alive, then closes silently: the next request on that connection gets no answer.
        start((r, n) -> Answer.closing(ok("fine")), 1);

        http.exchange(get("/"), TIMEOUT, 100);
        ContainerHttp.Response second = http.exchange(get("/"), TIMEOUT, 100);

        assertThat(second.body()).asString().isEqualTo("fine");
        assertThat(container.connections).hasValue(2);
    }

    @Test
    void headersThatCouldSplitTheRequestAreRefused() throws IOException {
        start((r, n) -> Answer.of(ok("")), 1);

        for (Map<String, String> headers : List.of(Map.of("Content-Type", "text/csv\r\nX-Injected: 1"), Map.of("Accept", "a\nb"),
                Map.of("Bad Name", "v"), Map.of("X:Y", "v"), Map.of("", "v"), Map.of("Host", "evil"), Map.of("Content-Length", "1"),
                Map.of("Transfer-Encoding", "chunked"), Map.of("Connection", "close"), Map.of("X-Amzn-SageMaker-Custom-Attributes", "a\u0000"),
                Map.of("Accept", "\u20ac"))) {
            assertThatThrownBy(() -> http.exchange(new ContainerHttp.Request("POST", "/invocations", headers, new byte[0]), TIMEOUT, 100))
                    .as(headers.toString()).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> http.exchange(get("/a b"), TIMEOUT, 100)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> http.exchange(new ContainerHttp.Request("GE T", "/", Map.of(), null), TIMEOUT, 100))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(container.requests).isEmpty();
    }

    @Test
    void concurrentExchangesEachGetAConnectionAndAtMostThePoolSizeStaysIdle() throws Exception {
        start((r, n) -> Answer.of(ok(r.substring(r.indexOf("\r\n\r\n") + 4))), 4);
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < 320; i++) {
                String body = "request " + i;
                results.add(pool.submit(() -> body.equals(new String(
                        http.exchange(new ContainerHttp.Request("POST", "/invocations", Map.of(), body.getBytes(StandardCharsets.US_ASCII)),
                                TIMEOUT, 1000).body(), StandardCharsets.US_ASCII))));
            }
            for (Future<Boolean> f : results) {
                assertThat(f.get()).isTrue();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(http.idleConnections()).isBetween(1, 4);
        assertThat(container.connections.get()).isBetween(1, 16 + 16);
    }

    @Test
    void aClosedClientKeepsNothingOpen() throws IOException {
        start((r, n) -> Answer.of(ok("x")), 2);
        http.exchange(get("/"), TIMEOUT, 100);

        http.close();

        assertThat(http.idleConnections()).isZero();
    }

    @Test
    void theReaderHandlesAResponseArrivingOneByteAtATime() throws IOException {
        byte[] raw = ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        ContainerHttp.Parsed p = new ContainerHttp.ResponseReader(ContainerHttpFuzzTest.chunked(raw, 1)).response("GET", 100);

        assertThat(p.response().body()).asString().isEqualTo("abc");
        assertThat(p.reusable()).isTrue();
    }
}
