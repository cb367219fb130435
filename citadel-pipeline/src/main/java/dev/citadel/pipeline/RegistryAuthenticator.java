package dev.citadel.pipeline;

/**
 * Authenticates a container registry request (the OCI Distribution API, which Docker clients sign
 * with no SigV4 but an ECR authorization token in {@code Authorization: Basic}). Throws
 * {@link dev.citadel.auth.AuthException} when the request carries no valid, unexpired token.
 */
@FunctionalInterface
public interface RegistryAuthenticator {
    Principal authenticate(IncomingRequest request);
}
