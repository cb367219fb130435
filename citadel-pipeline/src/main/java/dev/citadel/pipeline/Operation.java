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

    /** A handler function. */
    @FunctionalInterface
    interface Handler {
        JsonNode handle(RequestContext ctx, ObjectNode input);
    }

    /** An operation from its spec and a handler, so that a service declares both side by side. */
    static Operation of(OperationSpec spec, Handler handler) {
        java.util.Objects.requireNonNull(spec, "spec is null");
        java.util.Objects.requireNonNull(handler, "handler is null");
        return new Operation() {
            @Override
            public OperationSpec spec() {
                return spec;
            }

            @Override
            public JsonNode handle(RequestContext ctx, ObjectNode input) {
                return handler.handle(ctx, input);
            }

            @Override
            public String toString() {
                return spec.iamAction();
            }
        };
    }
}
