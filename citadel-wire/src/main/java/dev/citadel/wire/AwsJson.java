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

/**
 * The awsJson1_0 and awsJson1_1 protocols. A request is {@code POST /} with
 * {@code X-Amz-Target: <TargetPrefix>.<Operation>} ({@link #operation}: the prefix must be the
 * service's, the operation 1..128 ASCII letters and digits, else {@code UnknownOperationException})
 * and a JSON object body (an empty body is {@code {}}); a response is the output object; an error is
 * {@code {"__type":"<Code>","message":"<text>"}} with the error's status (botocore's JSONParser
 * reads {@code __type}, dropping a {@code namespace#} prefix and a {@code :…} suffix, and
 * {@code message} or {@code Message}); a service that moved from awsQuery also sends
 * {@code x-amzn-query-error: <Code>;Sender|Receiver}. Every response carries
 * {@code x-amzn-RequestId}. Input is parsed with limits on nesting (64), string length (1 MiB),
 * number length (100) and duplicate keys refused, and a number too large for a double (which would
 * otherwise read as infinity) refused too; anything else is a {@code SerializationException}.
 */
public final class AwsJson {
    /** The hardened mapper shared by the JSON codecs; thread-safe, and never reconfigured after this. */
    static final ObjectMapper MAPPER = mapper();
    private static final int MAX_OPERATION_LENGTH = 128;

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

    private static void requireJson(Protocol protocol) {
        if (protocol != Protocol.AWS_JSON_1_0 && protocol != Protocol.AWS_JSON_1_1) {
            throw new IllegalArgumentException("not an awsJson protocol: " + protocol);
        }
    }

    /** The operation named by {@code X-Amz-Target}, which must start with {@code prefix.}. */
    public static String operation(String target, String prefix) {
        int start = prefix.length() + 1;
        if (target == null || target.length() <= start || target.length() > start + MAX_OPERATION_LENGTH
                || !target.startsWith(prefix) || target.charAt(prefix.length()) != '.') {
            throw unknownOperation();
        }
        for (int i = start; i < target.length(); i++) {
            char c = target.charAt(i);
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
                throw unknownOperation();
            }
        }
        return target.substring(start);
    }

    private static AwsException unknownOperation() {
        return new AwsException("UnknownOperationException", 400, "The X-Amz-Target header does not name an operation of this service.");
    }

    /** The request body as an object; an empty body is {@code {}}; anything else is a {@code SerializationException}. */
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

    /** A 200 response whose body is {@code output} ({@code {}} when null), in the protocol's content type. */
    public static EncodedResponse encode(Protocol protocol, JsonNode output, String requestId) {
        requireJson(protocol);
        try {
            byte[] body = MAPPER.writeValueAsBytes(output == null ? JsonNodeFactory.instance.objectNode() : output);
            return EncodedResponse.of(200, protocol.contentType(), body, "x-amzn-RequestId", requestId);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode output", e);
        }
    }

    /** {@code queryCompatible}: also send {@code x-amzn-query-error: Code;Sender}, as services that moved from awsQuery do. */
    public static EncodedResponse encodeError(Protocol protocol, AwsException error, String requestId, boolean queryCompatible) {
        requireJson(protocol);
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        body.put("__type", error.code());
        body.put("message", error.getMessage());
        try {
            byte[] bytes = MAPPER.writeValueAsBytes(body);
            return queryCompatible
                    ? EncodedResponse.of(error.httpStatus(), protocol.contentType(), bytes, "x-amzn-RequestId", requestId,
                            "x-amzn-query-error", error.code() + ";" + (error.fault() == AwsException.Fault.SENDER ? "Sender" : "Receiver"))
                    : EncodedResponse.of(error.httpStatus(), protocol.contentType(), bytes, "x-amzn-RequestId", requestId);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode error", e);
        }
    }
}
