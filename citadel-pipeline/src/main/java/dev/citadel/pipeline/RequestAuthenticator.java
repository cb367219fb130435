package dev.citadel.pipeline;

import dev.citadel.auth.AuthException;

/**
 * The authentication step of the pipeline: first the cheap parse of the credential scope, which
 * routes the request, then full SigV4 verification of the request and its body.
 */
public interface RequestAuthenticator {
    /** The credential scope a request claims. */
    record Scope(String accessKeyId, String region, String service) {
    }

    /** Reads the scope without verifying anything; throws {@link AuthException} when there is none or it is malformed. */
    Scope scope(IncomingRequest request);

    /** Verifies the signature over the request and body; returns who signed it or throws {@link AuthException}. */
    Principal authenticate(IncomingRequest request, Scope scope, byte[] body);
}
