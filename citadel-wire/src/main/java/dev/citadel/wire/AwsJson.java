package dev.citadel.wire;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import java.io.IOException;
import java.util.Map;

/**
 * The awsJson1_0 and awsJson1_1 protocols. A request is {@code POST /} with
 * {@code X-Amz-Target: <TargetPrefix>.<Operation>} and a JSON object body (an empty body is
 * {@code {}}); a response is the output object; an error is
 * {@code {"__type":"<Code>","message":"<text>"}} with the error's status. Every response carries
 * {@code x-amzn-RequestId}. Input is parsed with limits on nesting (64), string length (1 MiB),
 * number length (100) and duplicate keys refused, and a number too large for a double (which would
 * otherwise read as infinity) refused too; anything else is a {@code SerializationException}.
 */
public final class AwsJson {
    public static final ObjectMapper MAPPER = mapper();

    private AwsJson() {
    }

    private static ObjectMapper mapper() {
        JsonFactory factory = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(64)
                        .maxStringLength(1 << 20)
                        .maxNumberLength(100)
                        .maxNameLength(1024)
                        .maxDocumentLength(64L << 20)
                        .build())
                .build();
        ObjectMapper m = new ObjectMapper(factory);
        m.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        m.enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        return m;
    }

    /** The operation named by {@code X-Amz-Target}, which must start with {@code prefix.}. */
    public static String operation(String target, String prefix) {
        if (target == null || !target.startsWith(prefix + ".") || target.length() == prefix.length() + 1) {
            throw new AwsException("UnknownOperationException", 400, "The X-Amz-Target header does not name an operation of this service.");
        }
        String op = target.substring(prefix.length() + 1);
        for (int i = 0; i < op.length(); i++) {
            char c = op.charAt(i);
            if (!Character.isLetterOrDigit(c) || c > 127) {
                throw new AwsException("UnknownOperationException", 400, "The X-Amz-Target header does not name an operation of this service.");
            }
        }
        return op;
    }

    public static ObjectNode decode(byte[] body) {
        if (body.length == 0) {
            return JsonNodeFactory.instance.objectNode();
        }
        JsonNode tree;
        try {
            tree = MAPPER.readTree(body);
        } catch (IOException | RuntimeException e) {
            throw new AwsException("SerializationException", 400, "The request body is not valid JSON.");
        }
        if (tree == null || !tree.isObject()) {
            throw new AwsException("SerializationException", 400, "The request body must be a JSON object.");
        }
        if (!finite(tree)) {
            throw new AwsException("SerializationException", 400, "The request body contains a number out of range.");
        }
        return (ObjectNode) tree;
    }

    private static boolean finite(JsonNode node) {
        if (node.isFloatingPointNumber()) {
            return Double.isFinite(node.doubleValue());
        }
        if (node.isContainerNode()) {
            for (JsonNode child : node) {
                if (!finite(child)) {
                    return false;
                }
            }
        }
        return true;
    }

    public static EncodedResponse encode(Protocol protocol, JsonNode output, String requestId) {
        try {
            byte[] body = MAPPER.writeValueAsBytes(output == null ? JsonNodeFactory.instance.objectNode() : output);
            return new EncodedResponse(200, protocol.contentType(), Map.of("x-amzn-RequestId", requestId), body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode output", e);
        }
    }

    /** {@code queryCompatible}: also send {@code x-amzn-query-error: Code;Sender}, as services that moved from awsQuery do. */
    public static EncodedResponse encodeError(Protocol protocol, AwsException error, String requestId, boolean queryCompatible) {
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        body.put("__type", error.code());
        body.put("message", error.getMessage());
        Map<String, String> headers = queryCompatible
                ? Map.of("x-amzn-RequestId", requestId, "x-amzn-query-error",
                        error.code() + ";" + (error.fault() == AwsException.Fault.SENDER ? "Sender" : "Receiver"))
                : Map.of("x-amzn-RequestId", requestId);
        try {
            return new EncodedResponse(error.httpStatus(), protocol.contentType(), headers, MAPPER.writeValueAsBytes(body));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode error", e);
        }
    }
}
