package dev.citadel.server.http;

import dev.citadel.pipeline.ConnectionInfo;
import dev.citadel.pipeline.IncomingRequest;
import dev.citadel.pipeline.RequestPipeline;
import dev.citadel.wire.EncodedResponse;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * The one Jetty handler: {@code GET /_citadel/health} answers without authentication and says
 * nothing but "ok"; every other request goes through the {@link RequestPipeline}.
 */
public final class ApiHandler extends Handler.Abstract {
    public static final String HEALTH_PATH = "/_citadel/health";
    private static final byte[] HEALTH_BODY = "{\"status\":\"ok\"}".getBytes(StandardCharsets.US_ASCII);

    private final RequestPipeline pipeline;
    private final String endpointId;

    /** @param endpointId the private endpoint this listener stands for, or empty for the default listener */
    public ApiHandler(RequestPipeline pipeline, String endpointId) {
        this.pipeline = pipeline;
        this.endpointId = endpointId;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        String rawPath = request.getHttpURI().getPath();
        if (HEALTH_PATH.equals(rawPath) && "GET".equals(request.getMethod())) {
            response.setStatus(200);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
            response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
            response.write(true, ByteBuffer.wrap(HEALTH_BODY), callback);
            return true;
        }
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (HttpField field : request.getHeaders()) {
            headers.computeIfAbsent(field.getLowerCaseName(), k -> new ArrayList<>(1)).add(field.getValue());
        }
        String rawQuery = request.getHttpURI().getQuery();
        InputStream body = Content.Source.asInputStream(request);
        IncomingRequest incoming = new IncomingRequest(request.getMethod(), rawPath == null ? "/" : rawPath,
                rawQuery == null ? "" : rawQuery, headers, body, request.getLength(), connection(request));
        EncodedResponse out = pipeline.handle(incoming);
        if (out.status() >= 400 && out.status() != 413) {
            drain(body, request.getLength());
        }
        response.setStatus(out.status());
        out.headers().forEach((name, value) -> response.getHeaders().put(name, value));
        if (!out.contentType().isEmpty()) {
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, out.contentType());
        }
        boolean head = "HEAD".equals(request.getMethod());
        if (out.stream().isPresent() && !head) {
            EncodedResponse.StreamingBody stream = out.stream().get();
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, stream.length());
            try (java.io.OutputStream sink = Content.Sink.asOutputStream(response)) {
                stream.writeTo(sink);
            } catch (java.io.IOException | RuntimeException e) {
                callback.failed(e);
                return true;
            }
            callback.succeeded();
            return true;
        }
        // A HEAD answer may state the length the GET would have (S3's HeadObject); otherwise the body's.
        if (!(head && out.headers().containsKey("Content-Length"))) {
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, out.body().length);
        }
        response.write(true, head ? ByteBuffer.allocate(0) : ByteBuffer.wrap(out.body()), callback);
        return true;
    }

    /**
     * Reads what is left of a small refused body before answering, so that a client still sending
     * it reads the refusal instead of a reset connection; a large one is left (Jetty then closes).
     */
    private static void drain(InputStream body, long declared) {
        if (declared < 0 || declared > DRAIN_LIMIT) {
            return;
        }
        try {
            body.skipNBytes(Math.max(0, Math.min(declared, DRAIN_LIMIT)));
        } catch (java.io.IOException | RuntimeException e) {
            // Already read, or the client went away: nothing to drain.
        }
    }

    private static final long DRAIN_LIMIT = 1 << 20;

    private ConnectionInfo connection(Request request) {
        SocketAddress remote = request.getConnectionMetaData().getRemoteSocketAddress();
        String ip = remote instanceof InetSocketAddress inet && inet.getAddress() != null
                ? inet.getAddress().getHostAddress() : "";
        String version = "";
        String suite = "";
        if (request.getAttribute(EndPoint.SslSessionData.ATTRIBUTE) instanceof EndPoint.SslSessionData ssl) {
            suite = ssl.cipherSuite() == null ? "" : ssl.cipherSuite();
            version = ssl.sslSession() == null ? "" : ssl.sslSession().getProtocol();
        }
        return new ConnectionInfo(ip, version, suite, endpointId);
    }
}
