package dev.citadel.auth;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * A parsed, not yet verified SigV4 signature, from the Authorization header or a presigned query.
 *
 * @param amzDate        the signing time as written ({@code 20150830T123600Z})
 * @param signedAt       the same, parsed
 * @param expiresSeconds for a presigned URL, {@code X-Amz-Expires}; 0 for header signatures
 * @param securityToken  {@code X-Amz-Security-Token} from the header or query, if any
 */
public record SigV4Authorization(CredentialScope scope, List<String> signedHeaders, String signature, String amzDate,
        Instant signedAt, boolean presigned, long expiresSeconds, Optional<String> securityToken) {
    public SigV4Authorization {
        requireNonNull(scope, "scope is null");
        signedHeaders = List.copyOf(signedHeaders);
        requireNonNull(signature, "signature is null");
        requireNonNull(amzDate, "amzDate is null");
        requireNonNull(signedAt, "signedAt is null");
        requireNonNull(securityToken, "securityToken is null");
    }

    @Override
    public String toString() {
        return "SigV4Authorization[scope=" + scope.accessKeyId() + "/" + scope.scope() + ", presigned=" + presigned + "]";
    }
}
