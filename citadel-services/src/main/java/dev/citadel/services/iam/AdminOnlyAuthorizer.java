package dev.citadel.services.iam;

import dev.citadel.core.Arn;
import dev.citadel.pipeline.Principal;
import dev.citadel.pipeline.authz.AuthorizationDecision;
import dev.citadel.pipeline.authz.AuthorizationRequest;
import dev.citadel.pipeline.authz.Authorizer;
import dev.citadel.services.accounts.AccountDirectory;

/**
 * The authorizer until IAM policy evaluation lands: a principal is allowed only if the managed
 * policy {@code AdministratorAccess} is attached to it (directly to the user, or to the role of a
 * role session) and every resource is {@code *} or lies in the principal's own account.
 * Everything else is denied. It stands behind the real {@link Authorizer} seam, so the IAM issue
 * replaces it without touching the pipeline.
 */
public final class AdminOnlyAuthorizer implements Authorizer {
    public static final String ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess";

    private final AccountDirectory directory;

    public AdminOnlyAuthorizer(AccountDirectory directory) {
        this.directory = directory;
    }

    @Override
    public AuthorizationDecision authorize(AuthorizationRequest request) {
        Principal p = request.principal();
        String firstResource = request.resources().isEmpty() ? "*" : request.resources().getFirst();
        if (!directory.hasPolicyAttached(p, ADMINISTRATOR_ACCESS)) {
            return AuthorizationDecision.deny(firstResource, "because no identity-based policy allows the " + request.action() + " action");
        }
        for (String resource : request.resources()) {
            if (!resource.equals("*") && !ownAccount(resource, p)) {
                return AuthorizationDecision.deny(resource, "because no resource-based policy allows the " + request.action() + " action");
            }
        }
        return AuthorizationDecision.allow();
    }

    private static boolean ownAccount(String resource, Principal p) {
        try {
            Arn arn = Arn.parse(resource);
            return arn.account().equals(p.account().value());
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
