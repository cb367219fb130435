package dev.citadel.server.http;

import dev.citadel.server.config.HttpLimits;
import java.net.InetSocketAddress;
import org.eclipse.jetty.http.HttpCompliance;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The TLS listener: HTTP/1.1 over TLS only (there is no plaintext connector), with the header,
 * idle-time and connection limits of {@link HttpLimits}. URI compliance is Jetty's legacy mode
 * because valid S3 keys contain {@code %2F}, {@code //} and {@code %2e%2e}; no path is ever
 * canonicalized before the pipeline sees it.
 */
public final class ApiServer implements AutoCloseable {
    private final Server server;
    private final ServerConnector connector;

    public ApiServer(InetSocketAddress listen, HttpLimits limits, SslContextFactory.Server tls, Handler handler) {
        QueuedThreadPool threads = new QueuedThreadPool(limits.maxThreads(), Math.min(8, limits.maxThreads()));
        threads.setName("citadel-http");
        server = new Server(threads);

        HttpConfiguration http = new HttpConfiguration();
        http.setRequestHeaderSize(limits.maxHeaderBytes());
        http.setResponseHeaderSize(16 * 1024);
        http.setSendServerVersion(false);
        http.setSendDateHeader(true);
        http.setSendXPoweredBy(false);
        http.setUriCompliance(UriCompliance.LEGACY);
        http.setHttpCompliance(HttpCompliance.RFC9110);
        // Header values reach SigV4 exactly as sent: Jetty's header cache would otherwise hand back its own
        // spelling of a well-known value (text/plain; charset=utf-8 for text/plain; charset=UTF-8).
        http.setHeaderCacheCaseSensitive(true);
        http.setIdleTimeout(limits.idleTimeout().toMillis());
        SecureRequestCustomizer secure = new SecureRequestCustomizer();
        secure.setSniHostCheck(false);
        secure.setStsMaxAge(31_536_000);
        http.addCustomizer(secure);

        connector = new ServerConnector(server, new SslConnectionFactory(tls, "http/1.1"), new HttpConnectionFactory(http));
        connector.setHost(listen.getHostString());
        connector.setPort(listen.getPort());
        connector.setIdleTimeout(limits.idleTimeout().toMillis());
        connector.setAcceptQueueSize(1024);
        server.addConnector(connector);
        server.addBean(new NetworkConnectionLimit(limits.maxConnections(), connector));
        server.setHandler(handler);
        server.setStopTimeout(5000);
    }

    public void start() throws Exception {
        server.start();
    }

    /** Whether the listener is started and its socket open (the readiness check). */
    public boolean isRunning() {
        return server.isStarted() && connector.isOpen();
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
}
