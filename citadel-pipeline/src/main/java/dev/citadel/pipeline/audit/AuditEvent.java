package dev.citadel.pipeline.audit;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.Optional;

/**
 * One request on the record, in CloudTrail's record schema (eventVersion 1.11). Built only from
 * values that were already stripped of secrets: the pipeline removes signatures, secret keys,
 * session tokens and each operation's sensitive input fields before an event exists.
 *
 * @param userIdentity      CloudTrail's userIdentity object, or absent for unauthenticated requests
 * @param requestParameters the redacted input, or absent
 * @param responseElements  the redacted output of a mutating call, or absent
 */
public record AuditEvent(
        String eventId,
        Instant eventTime,
        String eventSource,
        String eventName,
        String awsRegion,
        String sourceIpAddress,
        String userAgent,
        Optional<JsonNode> userIdentity,
        Optional<JsonNode> requestParameters,
        Optional<JsonNode> responseElements,
        Optional<String> errorCode,
        Optional<String> errorMessage,
        String requestId,
        boolean readOnly,
        String recipientAccountId,
        String tlsVersion,
        String cipherSuite,
        String clientProvidedHostHeader,
        String vpcEndpointId) {

    public static final String EVENT_VERSION = "1.11";

    public AuditEvent {
        requireNonNull(eventId, "eventId is null");
        requireNonNull(eventTime, "eventTime is null");
        requireNonNull(eventSource, "eventSource is null");
        requireNonNull(eventName, "eventName is null");
        requireNonNull(awsRegion, "awsRegion is null");
        requireNonNull(sourceIpAddress, "sourceIpAddress is null");
        requireNonNull(userAgent, "userAgent is null");
        requireNonNull(userIdentity, "userIdentity is null");
        requireNonNull(requestParameters, "requestParameters is null");
        requireNonNull(responseElements, "responseElements is null");
        requireNonNull(errorCode, "errorCode is null");
        requireNonNull(errorMessage, "errorMessage is null");
        requireNonNull(requestId, "requestId is null");
        requireNonNull(recipientAccountId, "recipientAccountId is null");
        requireNonNull(tlsVersion, "tlsVersion is null");
        requireNonNull(cipherSuite, "cipherSuite is null");
        requireNonNull(clientProvidedHostHeader, "clientProvidedHostHeader is null");
        requireNonNull(vpcEndpointId, "vpcEndpointId is null");
    }
}
