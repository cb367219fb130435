package dev.citadel.server.ops;

import dev.citadel.core.SecretBytes;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Optional;
import java.util.function.Supplier;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The operator listener: a listener of its own, apart from the API's, that answers three
 * requests and nothing else.
 *
 * <pre>
 * GET /metrics        200 text/plain; version=0.0.4   every meter of {@link OperatorMetrics}
 * GET /health/live    200 {"status":"live"}           the process answers
 * GET /health/ready   200 | 503 {"status":"ready"|"not ready","checks":{…}}   {@link Readiness}
 * anything else       404 (another method on these paths: 405)
 * </pre>
 *
 * It never reaches the request pipeline, so no AWS operation can be called through it, and what
 * it returns holds counts and fixed words only: no secret, request body or account data. With a
 * token, every request must carry {@code Authorization: Bearer <token>} (compared in constant
 * time, as SHA-256 digests) or gets 401. On a non-loopback address it speaks TLS with the API's
 * certificate, and the configuration requires a token there ({@code OperatorConfig}).
 */
public final class OperatorServer implements AutoCloseable {
    public static final String METRICS = "/metrics";
    public static final String LIVE = "/health/live";
    public static final String READY = "/health/ready";
    /** The content type of Prometheus's text exposition format 0.0.4, which {@link OperatorMetrics#scrape()} writes. */
    static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

    private final Server server;
    private final ServerConnector connector;

    /**
     * @param tls   the API's TLS context when the listener is not on loopback, else empty (plain HTTP)
     * @param token the bearer token every request must carry, or empty
     */
    public OperatorServer(InetSocketAddress listen, Optional<SslContextFactory.Server> tls, Optional<SecretBytes> token,
            Supplier<String> metrics, Supplier<Readiness.Report> readiness) {
        QueuedThreadPool threads = new QueuedThreadPool(8, 2);
        threads.setName("citadel-operator");
        server = new Server(threads);
        HttpConfiguration http = new HttpConfiguration();
        http.setRequestHeaderSize(8192);
        http.setSendServerVersion(false);
        http.setSendXPoweredBy(false);
        http.setIdleTimeout(30_000);
        HttpConnectionFactory h1 = new HttpConnectionFactory(http);
        if (tls.isPresent()) {
            SecureRequestCustomizer secure = new SecureRequestCustomizer();
            secure.setSniHostCheck(false);
            http.addCustomizer(secure);
            connector = new ServerConnector(server, 1, 1, new SslConnectionFactory(tls.get(), "http/1.1"), h1);
        } else {
            connector = new ServerConnector(server, 1, 1, h1);
        }
        connector.setHost(listen.getHostString());
        connector.setPort(listen.getPort());
        connector.setIdleTimeout(30_000);
        server.addConnector(connector);
        server.addBean(new NetworkConnectionLimit(32, connector));
        server.setHandler(new OperatorHandler(token.map(OperatorServer::sha256), metrics, readiness));
        server.setStopTimeout(2000);
    }

    public void start() throws Exception {
        server.start();
    }

    /** The bound port; useful when the configured port was 0. */
    public int port() {
        return connector.getLocalPort();
    }

    @Override
    public void close() throws Exception {
        server.stop();
        server.join();
    }

    private static byte[] sha256(SecretBytes token) {
        byte[] raw = token.revealBytes();
        try {
            return MessageDigest.getInstance("SHA-256").digest(raw);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        } finally {
            java.util.Arrays.fill(raw, (byte) 0);
        }
    }

    /** The one handler of the operator listener. */
    private static final class OperatorHandler extends Handler.Abstract {
        private static final byte[] LIVE_BODY = "{\"status\":\"live\"}".getBytes(StandardCharsets.US_ASCII);
        private final Optional<byte[]> tokenDigest;
        private final Supplier<String> metrics;
        private final Supplier<Readiness.Report> readiness;

        OperatorHandler(Optional<byte[]> tokenDigest, Supplier<String> metrics, Supplier<Readiness.Report> readiness) {
            this.tokenDigest = tokenDigest;
            this.metrics = metrics;
            this.readiness = readiness;
        }

        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
            response.getHeaders().put("X-Content-Type-Options", "nosniff");
            if (tokenDigest.isPresent() && !authorized(request.getHeaders().get(HttpHeader.AUTHORIZATION))) {
                response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer realm=\"citadel-operator\"");
                return answer(request, response, callback, 401, "application/json", "{\"error\":\"unauthorized\"}");
            }
            String path = request.getHttpURI().getPath();
            boolean known = METRICS.equals(path) || LIVE.equals(path) || READY.equals(path);
            if (!known) {
                return answer(request, response, callback, 404, "application/json", "{\"error\":\"not found\"}");
            }
            String method = request.getMethod();
            if (!method.equals("GET") && !method.equals("HEAD")) {
                response.getHeaders().put(HttpHeader.ALLOW, "GET, HEAD");
                return answer(request, response, callback, 405, "application/json", "{\"error\":\"method not allowed\"}");
            }
            return switch (path) {
                case METRICS -> answer(request, response, callback, 200, PROMETHEUS_TEXT, metrics.get());
                case LIVE -> answer(request, response, callback, 200, "application/json", LIVE_BODY);
                default -> {
                    Readiness.Report report = readiness.get();
                    yield answer(request, response, callback, report.ready() ? 200 : 503, "application/json", report.json());
                }
            };
        }

        /** Whether the header is {@code Bearer <the token>}; the comparison takes the same time whatever was sent. */
        private boolean authorized(String header) {
            if (header == null || header.length() < 7 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
                return false;
            }
            byte[] presented = header.substring(7).strip().getBytes(StandardCharsets.UTF_8);
            try {
                return MessageDigest.isEqual(MessageDigest.getInstance("SHA-256").digest(presented), tokenDigest.orElseThrow());
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        private static boolean answer(Request request, Response response, Callback callback, int status, String type, String body) {
            return answer(request, response, callback, status, type, body.getBytes(StandardCharsets.UTF_8));
        }

        private static boolean answer(Request request, Response response, Callback callback, int status, String type, byte[] body) {
            response.setStatus(status);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
            boolean head = "HEAD".equals(request.getMethod());
            response.write(true, ByteBuffer.wrap(head ? new byte[0] : body), callback);
            return true;
        }
    }
}
