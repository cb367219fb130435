package dev.citadel.services.iam;

import dev.citadel.core.Arn;
import dev.citadel.pipeline.Principal;
import dev.citadel.pipeline.authz.AuthorizationDecision;
import dev.citadel.pipeline.authz.AuthorizationRequest;
import dev.citadel.pipeline.authz.Authorizer;
import dev.citadel.policy.Decision;
import dev.citadel.policy.PolicyEvaluator;
import dev.citadel.policy.RequestFacts;
import dev.citadel.services.accounts.AccountDirectory;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Authorizes with AWS's policy evaluation logic ({@link PolicyEvaluator}) over the managed
 * policies attached to the principal (to the user, or to the role of a role session), its inline
 * policies, and for a user the managed and inline policies of its groups. Each
 * resource of the request is decided on its own and all must be allowed; a resource in another
 * account needs that account's resource-based policy as well, and none exist yet, so it is
 * denied. A request through a private endpoint is also bounded by that endpoint's policy, if it has
 * one. A principal's attachments are read at most every 5 seconds (IAM, too, is eventually
 * consistent). Groups, inline and customer managed policies, boundaries, session policies and SCPs
 * plug in here as the IAM issue adds them.
 */
public final class PolicyAuthorizer implements Authorizer {
    private static final long ATTACHMENTS_TTL_NANOS = 5_000_000_000L;
    private static final int CACHE_MAX = 10_000;

    private record Cached(List<PolicyEvaluator.Source> policies, long expiresAt) {
    }

    private final AccountDirectory directory;
    private final java.util.Map<String, PolicyEvaluator.Source> endpointPolicies;
    private final ConcurrentHashMap<String, Cached> cache = new ConcurrentHashMap<>();

    /** @param endpointPolicies the policy of each private endpoint that has one, by endpoint id */
    public PolicyAuthorizer(AccountDirectory directory, java.util.Map<String, dev.citadel.policy.Policy> endpointPolicies) {
        this.directory = directory;
        java.util.Map<String, PolicyEvaluator.Source> sources = new java.util.HashMap<>();
        endpointPolicies.forEach((id, policy) -> sources.put(id, new PolicyEvaluator.Source("the VPC endpoint policy of " + id, policy)));
        this.endpointPolicies = java.util.Map.copyOf(sources);
        directory.onIdentityChange(cache::clear);
    }

    public PolicyAuthorizer(AccountDirectory directory) {
        this(directory, java.util.Map.of());
    }

    @Override
    public AuthorizationDecision authorize(AuthorizationRequest request) {
        Principal p = request.principal();
        List<PolicyEvaluator.Source> identity = identityPolicies(p);
        String roleArn = p.type().equals("AssumedRole") ? roleArn(p) : "";
        List<String> vpce = request.context().get("aws:SourceVpce");
        Optional<PolicyEvaluator.Source> endpoint = vpce == null || vpce.isEmpty() ? Optional.empty()
                : Optional.ofNullable(endpointPolicies.get(vpce.getFirst()));
        for (String resource : request.resources()) {
            RequestFacts facts = new RequestFacts(request.action(), resource, p.arn(), p.account().value(), roleArn, request.context());
            Decision d = PolicyEvaluator.evaluate(new PolicyEvaluator.Input(facts, identity, Optional.empty(), resourceAccount(resource),
                    Optional.empty(), List.of(), List.of(), endpoint));
            if (!d.allowed()) {
                return AuthorizationDecision.deny(resource, d.reason());
            }
        }
        return AuthorizationDecision.allow();
    }

    /** The identity-based policies that apply to a principal, as enforcement sees them (the simulator uses the same). */
    public List<PolicyEvaluator.Source> identityPolicies(Principal p) {
        long now = System.nanoTime();
        Cached c = cache.get(p.arn());
        if (c != null && c.expiresAt - now > 0) {
            return c.policies;
        }
        List<PolicyEvaluator.Source> sources = new ArrayList<>();
        for (String arn : directory.attachedPolicies(p)) {
            ManagedPolicies.byArn(arn).ifPresent(policy -> sources.add(new PolicyEvaluator.Source(arn, policy)));
        }
        directory.inlinePolicies(p).forEach((name, document) -> sources.add(inline(name, p.arn(), document)));
        for (AccountDirectory.GroupPolicies g : directory.groupPolicies(p)) {
            for (String arn : g.attached()) {
                ManagedPolicies.byArn(arn).ifPresent(policy -> sources.add(new PolicyEvaluator.Source(arn + " through " + g.groupArn(), policy)));
            }
            g.inline().forEach((name, document) -> sources.add(inline(name, g.groupArn(), document)));
        }
        if (cache.size() >= CACHE_MAX) {
            cache.clear();
        }
        cache.put(p.arn(), new Cached(List.copyOf(sources), now + ATTACHMENTS_TTL_NANOS));
        return sources;
    }

    private static PolicyEvaluator.Source inline(String name, String owner, String document) {
        return new PolicyEvaluator.Source("the inline policy " + name + " of " + owner,
                dev.citadel.policy.PolicyParser.parse(document, dev.citadel.policy.PolicyParser.Kind.IDENTITY));
    }

    /** {@code arn:aws:sts::A:assumed-role/R/S} belongs to {@code arn:aws:iam::A:role/R}. */
    private static String roleArn(Principal p) {
        String[] parts = p.arn().split("/");
        return parts.length >= 3 ? "arn:aws:iam::" + p.account().value() + ":role/" + parts[1] : "";
    }

    private static String resourceAccount(String resource) {
        if (resource.equals("*")) {
            return "";
        }
        try {
            return Arn.parse(resource).account();
        } catch (IllegalArgumentException e) {
            return "unparseable";
        }
    }
}
