package dev.citadel.pipeline.authz;

import static java.util.Objects.requireNonNull;

/**
 * An authorizer's answer. A denial names the resource and why ({@code no identity-based policy
 * allows the … action}, {@code with an explicit deny in …}), as AWS's messages do.
 */
public record AuthorizationDecision(boolean allowed, String deniedResource, String reason) {
    public AuthorizationDecision {
        requireNonNull(deniedResource, "deniedResource is null");
        requireNonNull(reason, "reason is null");
    }

    public static AuthorizationDecision allow() {
        return new AuthorizationDecision(true, "", "");
    }

    public static AuthorizationDecision deny(String resource, String reason) {
        return new AuthorizationDecision(false, resource, reason);
    }
}
