package dev.citadel.pipeline.authz;

import static java.util.Objects.requireNonNull;

import dev.citadel.pipeline.Principal;
import java.util.List;
import java.util.Map;

/** One question to the authorizer: may this principal perform this action on these resources, in this context? */
public record AuthorizationRequest(Principal principal, String action, List<String> resources,
        Map<String, List<String>> context) {
    public AuthorizationRequest {
        requireNonNull(principal, "principal is null");
        requireNonNull(action, "action is null");
        resources = List.copyOf(resources);
        context = Map.copyOf(context);
    }
}
