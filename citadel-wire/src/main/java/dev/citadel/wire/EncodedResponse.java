package dev.citadel.wire;

import static java.util.Objects.requireNonNull;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A response ready for the listener: HTTP status (100..599), content type (empty when there is no
 * body, as for a HEAD), extra headers in the order they are to be sent, and the body. Header names
 * are HTTP tokens and values carry no control characters, so that no code or message can split the
 * header block. The body array is owned by the response once built: callers must not change it.
 */
public record EncodedResponse(int status, String contentType, Map<String, String> headers, byte[] body,
        java.util.Optional<StreamingBody> stream) {
    /**
     * A body written straight to the connection instead of held in memory (an S3 object): its
     * length is known in advance, and writing it reads its source as it goes.
     */
    public interface StreamingBody {
        long length();

        void writeTo(java.io.OutputStream out) throws java.io.IOException;
    }

    public EncodedResponse(int status, String contentType, Map<String, String> headers, byte[] body) {
        this(status, contentType, headers, body, java.util.Optional.empty());
    }

    /** A response whose body streams from {@code stream} (the byte array body is then empty). */
    public static EncodedResponse streaming(int status, String contentType, Map<String, String> headers, StreamingBody stream) {
        return new EncodedResponse(status, contentType, headers, new byte[0], java.util.Optional.of(stream));
    }

    public EncodedResponse {
        requireNonNull(stream, "stream is null");
        if (status < 100 || status > 599) {
            throw new IllegalArgumentException("status out of range: " + status);
        }
        requireNonNull(contentType, "contentType is null");
        requireNonNull(headers, "headers is null");
        requireNonNull(body, "body is null");
        requireHeaderValue(contentType);
        LinkedHashMap<String, String> copy = new LinkedHashMap<>(headers.size() * 2);
        headers.forEach((name, value) -> {
            requireHeaderName(name);
            requireHeaderValue(requireNonNull(value, "header value is null"));
            copy.put(name, value);
        });
        headers = Collections.unmodifiableMap(copy);
    }

    /** A response with the given headers, which are given as alternating names and values. */
    public static EncodedResponse of(int status, String contentType, byte[] body, String... namesAndValues) {
        if (namesAndValues.length % 2 != 0) {
            throw new IllegalArgumentException("header names and values must pair up");
        }
        LinkedHashMap<String, String> headers = new LinkedHashMap<>(namesAndValues.length);
        for (int i = 0; i < namesAndValues.length; i += 2) {
            headers.put(namesAndValues[i], namesAndValues[i + 1]);
        }
        return new EncodedResponse(status, contentType, headers, body);
    }

    private static void requireHeaderName(String name) {
        requireNonNull(name, "header name is null");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("empty header name");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean token = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!token) {
                throw new IllegalArgumentException("not an HTTP header name: " + name);
            }
        }
    }

    private static void requireHeaderValue(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                throw new IllegalArgumentException("header value holds a control character");
            }
        }
    }
}
