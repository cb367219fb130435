package dev.citadel.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import dev.citadel.pipeline.spec.ServiceDefinition;
import dev.citadel.wire.EncodedResponse;
import java.util.Optional;

/** Binds one wire protocol's codecs to the pipeline: which operation, its input, its output, its errors. */
public interface ProtocolAdapter {
    /** A decoded call: the operation's name and its input tree. */
    record Call(String operation, ObjectNode input) {
    }

    /** The operation, when the protocol names it outside the body (X-Amz-Target); lets the body limit be the operation's. */
    Optional<String> operationFromHeaders(ServiceDefinition service, IncomingRequest request);

    Call decode(ServiceDefinition service, IncomingRequest request, byte[] body);

    EncodedResponse encode(ServiceDefinition service, String operation, JsonNode output, String requestId);

    EncodedResponse encodeError(ServiceDefinition service, AwsException error, String requestId, boolean headRequest);

    /** The error for an operation this service does not have. */
    AwsException unknownOperation(ServiceDefinition service, String operation);
}
