package dev.citadel.pipeline;

import static java.util.Objects.requireNonNull;

import java.io.InputStream;
import java.util.List;
import java.util.Map;

/**
 * An HTTP request as the listener received it, before anything was trusted.
 *
 * @param rawPath        the path exactly as on the wire, still percent-encoded
 * @param rawQuery       the query exactly as on the wire, or empty
 * @param headers        header names lower-cased, values as received, in order
 * @param contentLength  the declared length, or -1 when the body is chunked or absent
 */
public record IncomingRequest(String method, String rawPath, String rawQuery, Map<String, List<String>> headers,
        InputStream body, long contentLength, ConnectionInfo connection) {
    public IncomingRequest {
        requireNonNull(method, "method is null");
        requireNonNull(rawPath, "rawPath is null");
        requireNonNull(rawQuery, "rawQuery is null");
        requireNonNull(headers, "headers is null");
        requireNonNull(body, "body is null");
        requireNonNull(connection, "connection is null");
    }

    public String header(String lowerName) {
        List<String> values = headers.get(lowerName);
        return values == null || values.isEmpty() ? null : values.getFirst();
    }
}
