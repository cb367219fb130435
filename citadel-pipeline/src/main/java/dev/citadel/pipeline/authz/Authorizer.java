package dev.citadel.pipeline.authz;

/**
 * Decides every request that reached an operation. Deny by default: anything not explicitly
 * allowed is refused.
 */
@FunctionalInterface
public interface Authorizer {
    AuthorizationDecision authorize(AuthorizationRequest request);
}
