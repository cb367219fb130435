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
 * @param resources         the resources the request named (as authorized), with their types
 * @param managementEvent   a management event (control plane); false for a data event (S3
 *                          object-level calls), whose eventCategory is Data
 * @param sensitiveData     what the sensitive-data detectors found in free-form fields (field and
 *                          kind only; the values are masked in requestParameters)
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
        String vpcEndpointId,
        java.util.List<Resource> resources,
        boolean managementEvent,
        java.util.List<SensitiveData.Finding> sensitiveData) {

    public static final String EVENT_VERSION = "1.11";

    /** One entry of CloudTrail's {@code resources}: the ARN, the owning account when the ARN names it, and the resource type. */
    public record Resource(String arn, Optional<String> accountId, String type) {
        public Resource {
            requireNonNull(arn, "arn is null");
            requireNonNull(accountId, "accountId is null");
            requireNonNull(type, "type is null");
        }

        /** The resource an ARN names, typed as CloudTrail types it (AWS::S3::Object, AWS::KMS::Key, …). */
        public static Resource of(String arn) {
            String[] parts = arn.split(":", 6);
            if (parts.length < 6 || !parts[0].equals("arn")) {
                return new Resource(arn, Optional.empty(), "");
            }
            String service = parts[2];
            String rest = parts[5];
            String kind = rest.contains("/") ? rest.substring(0, rest.indexOf('/')) : rest.contains(":") ? rest.substring(0, rest.indexOf(':')) : "";
            String type = switch (service) {
                case "s3" -> rest.contains("/") ? "AWS::S3::Object" : "AWS::S3::Bucket";
                case "kms" -> kind.equals("alias") ? "AWS::KMS::Alias" : "AWS::KMS::Key";
                case "iam" -> switch (kind) {
                    case "user" -> "AWS::IAM::User";
                    case "role" -> "AWS::IAM::Role";
                    case "group" -> "AWS::IAM::Group";
                    case "policy" -> "AWS::IAM::Policy";
                    case "mfa" -> "AWS::IAM::MFADevice";
                    default -> "AWS::IAM::" + capitalized(kind);
                };
                case "sts" -> "AWS::STS::" + capitalized(kind);
                case "organizations" -> "AWS::Organizations::" + capitalized(kind);
                case "logs" -> rest.matches("log-group:[^:]+:log-stream:.+") ? "AWS::Logs::LogStream" : "AWS::Logs::LogGroup";
                default -> "AWS::" + capitalized(service) + "::" + capitalized(kind);
            };
            return new Resource(arn, parts[4].isEmpty() ? Optional.empty() : Optional.of(parts[4]), type);
        }

        private static String capitalized(String s) {
            if (s.isEmpty() || s.equals("*")) {
                return "";
            }
            StringBuilder out = new StringBuilder();
            for (String word : s.split("-")) {
                if (!word.isEmpty()) {
                    out.append(Character.toUpperCase(word.charAt(0))).append(word.substring(1));
                }
            }
            return out.toString();
        }
    }

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
        resources = java.util.List.copyOf(resources);
        sensitiveData = java.util.List.copyOf(sensitiveData);
    }
}
