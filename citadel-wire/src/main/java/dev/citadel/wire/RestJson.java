package dev.citadel.wire;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The restJson1 protocol (SageMaker Runtime). The operation and part of its input come from the
 * method, path, query and headers, bound by each route; a structured body (not a raw payload such
 * as InvokeEndpoint's) is a JSON object decoded by {@link #decode} with the same limits as awsJson
 * ({@link AwsJson#decode}): an empty body is {@code {}}, anything not a JSON object a
 * {@code SerializationException}. A response body is JSON ({@code application/json}). An error
 * carries its code in {@code X-Amzn-ErrorType} and {@code {"message":"…"}} in the body, which is
 * what botocore's RestJSONParser and the AWS SDKs read (the header first, then {@code code} in the
 * body; {@code message}, else {@code Message}). Every response carries {@code x-amzn-RequestId}.
 */
public final class RestJson {
    private RestJson() {
    }

    /** A structured request body; see the class comment. */
    public static ObjectNode decode(byte[] body) {
        return AwsJson.decode(body);
    }

    /** A response with a JSON body ({@code {}} when {@code output} is null) and extra headers in order. */
    public static EncodedResponse encode(int status, JsonNode output, String requestId, Map<String, String> extraHeaders) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("x-amzn-RequestId", requestId);
        headers.putAll(extraHeaders);
        return new EncodedResponse(status, Protocol.REST_JSON_1.contentType(), headers,
                json(output == null ? JsonNodeFactory.instance.objectNode() : output));
    }

    /** A 200 response with a JSON body. */
    public static EncodedResponse encode(JsonNode output, String requestId) {
        return encode(200, output, requestId, Map.of());
    }

    /** A response whose body is a raw payload (e.g. an InvokeEndpoint result) of the given content type. */
    public static EncodedResponse encodePayload(int status, String contentType, byte[] payload, String requestId,
            Map<String, String> extraHeaders) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("x-amzn-RequestId", requestId);
        headers.putAll(extraHeaders);
        return new EncodedResponse(status, contentType, headers, payload);
    }

    public static EncodedResponse encodeError(AwsException error, String requestId) {
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        body.put("message", error.getMessage());
        return EncodedResponse.of(error.httpStatus(), Protocol.REST_JSON_1.contentType(), json(body),
                "X-Amzn-ErrorType", error.code(), "x-amzn-RequestId", requestId);
    }

    private static byte[] json(JsonNode node) {
        try {
            return AwsJson.MAPPER.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode JSON", e);
        }
    }
}
