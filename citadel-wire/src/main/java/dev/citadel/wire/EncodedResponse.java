package dev.citadel.wire;

import static java.util.Objects.requireNonNull;

import java.util.Map;

/** A response ready for the listener: status, content type, extra headers, body. */
public record EncodedResponse(int status, String contentType, Map<String, String> headers, byte[] body) {
    public EncodedResponse {
        requireNonNull(contentType, "contentType is null");
        headers = Map.copyOf(headers);
        requireNonNull(body, "body is null");
    }
}
