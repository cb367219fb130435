package dev.citadel.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.pipeline.spec.OperationSpec;

/**
 * An API operation: its spec and its handler. The handler runs only after the request was
 * authenticated and authorized against the spec; it returns the output tree, which the service's
 * protocol encodes, or throws an {@link dev.citadel.core.AwsException}.
 */
public interface Operation {
    OperationSpec spec();

    JsonNode handle(RequestContext ctx, ObjectNode input);
}
