package dev.citadel.pipeline.spec;

import static java.util.Objects.requireNonNull;

import dev.citadel.wire.Protocol;

/**
 * One AWS service as clients address it.
 *
 * @param id            Citadel's name for it, unique ({@code sts}, {@code sagemaker-runtime})
 * @param signingName   the service name in the SigV4 credential scope ({@code sts}, {@code kms}); several
 *                      services may share one (SageMaker and SageMaker Runtime both sign as {@code sagemaker})
 * @param iamPrefix     the namespace of its IAM actions ({@code sts}, {@code sagemaker})
 * @param protocol      its wire protocol
 * @param targetPrefix  for the JSON protocols, the {@code X-Amz-Target} prefix ({@code TrentService}); else empty
 * @param apiVersion    the API version ({@code 2011-06-15}); awsQuery requests must name it
 * @param xmlNamespace  for awsQuery, the namespace of responses; else empty
 * @param eventSource   CloudTrail's event source ({@code sts.amazonaws.com})
 * @param global        a global service (IAM, Organizations): clients sign it for us-east-1 whatever the region
 */
public record ServiceDefinition(String id, String signingName, String iamPrefix, Protocol protocol, String targetPrefix, String apiVersion,
        String xmlNamespace, String eventSource, boolean global) {
    /** The region global services are signed for. */
    public static final String GLOBAL_SIGNING_REGION = "us-east-1";

    public ServiceDefinition {
        requireNonNull(id, "id is null");
        requireNonNull(signingName, "signingName is null");
        requireNonNull(iamPrefix, "iamPrefix is null");
        requireNonNull(protocol, "protocol is null");
        requireNonNull(targetPrefix, "targetPrefix is null");
        requireNonNull(apiVersion, "apiVersion is null");
        requireNonNull(xmlNamespace, "xmlNamespace is null");
        requireNonNull(eventSource, "eventSource is null");
        if (!signingName.matches("[a-z0-9-]{2,32}")) {
            throw new IllegalArgumentException("signing name must be lower-case: " + signingName);
        }
    }
}
