package dev.citadel.auth;

import static java.util.Objects.requireNonNull;

/**
 * A signature that matched: what an {@link AwsChunkedDecoder} needs to verify the chunks that
 * follow (the signing key and the seed signature). {@link #toString()} names neither.
 */
public record VerifiedSignature(SigV4Authorization authorization, byte[] signingKey) {
    public VerifiedSignature {
        requireNonNull(authorization, "authorization is null");
        requireNonNull(signingKey, "signingKey is null");
    }

    public String seedSignature() {
        return authorization.signature();
    }

    @Override
    public String toString() {
        return "VerifiedSignature[" + authorization + "]";
    }
}
