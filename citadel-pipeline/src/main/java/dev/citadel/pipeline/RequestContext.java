package dev.citadel.pipeline;

import static java.util.Objects.requireNonNull;

import dev.citadel.pipeline.spec.OperationSpec;
import dev.citadel.pipeline.spec.ServiceDefinition;
import java.time.Instant;

/** Everything a handler may know about the request it serves, once it is authenticated. */
public record RequestContext(String requestId, Instant receivedAt, String region, ServiceDefinition service,
        OperationSpec operation, Principal principal, ConnectionInfo connection, String userAgent) {
    public RequestContext {
        requireNonNull(requestId, "requestId is null");
        requireNonNull(receivedAt, "receivedAt is null");
        requireNonNull(region, "region is null");
        requireNonNull(service, "service is null");
        requireNonNull(operation, "operation is null");
        requireNonNull(principal, "principal is null");
        requireNonNull(connection, "connection is null");
        requireNonNull(userAgent, "userAgent is null");
    }
}
