package dev.citadel.wire;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import java.util.Map;

/**
 * The restJson1 protocol (SageMaker Runtime). Errors carry the code in {@code X-Amzn-ErrorType}
 * and {@code {"message":"…"}} in the body, which is what boto3 and the AWS SDKs read; every
 * response carries {@code x-amzn-RequestId}.
 */
public final class RestJson {
    private RestJson() {
    }

    public static EncodedResponse encodeError(AwsException error, String requestId) {
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        body.put("message", error.getMessage());
        try {
            return new EncodedResponse(error.httpStatus(), Protocol.REST_JSON_1.contentType(),
                    Map.of("X-Amzn-ErrorType", error.code(), "x-amzn-RequestId", requestId), AwsJson.MAPPER.writeValueAsBytes(body));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode error", e);
        }
    }
}
