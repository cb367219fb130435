package dev.citadel.services.iam;

import dev.citadel.core.AccountId;
import dev.citadel.core.Arn;
import dev.citadel.metadata.iam.IamRole;
import dev.citadel.pipeline.Principal;
import dev.citadel.pipeline.authz.AuthorizationDecision;
import dev.citadel.pipeline.authz.AuthorizationRequest;
import dev.citadel.pipeline.authz.Authorizer;
import dev.citadel.policy.Decision;
import dev.citadel.policy.MalformedPolicyException;
import dev.citadel.policy.Policy;
import dev.citadel.policy.PolicyEvaluator;
import dev.citadel.policy.PolicyParser;
import dev.citadel.policy.RequestFacts;
import dev.citadel.services.accounts.AccountDirectory;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Authorizes with AWS's policy evaluation logic ({@link PolicyEvaluator}) over everything that
 * bears on a request:
 * <ul>
 *   <li>identity policies: the managed (AWS or customer) and inline policies of the user or of the
 *       role of a role session, and for a user those of its groups;</li>
 *   <li>the permissions boundary of that user or role;</li>
 *   <li>the session policies of temporary credentials;</li>
 *   <li>the service control policies of the principal's account (a member account only);</li>
 *   <li>the role's trust policy for {@code sts:AssumeRole}, {@code sts:TagSession} and
 *       {@code sts:SetSourceIdentity}: it must allow the caller, and across accounts it is the
 *       resource-based policy the caller's own permission must be matched by;</li>
 *   <li>the policy of the private endpoint the request came through, if it has one.</li>
 * </ul>
 * Each resource of the request is decided on its own and all must be allowed. A resource in another
 * account needs that account's resource-based policy; until a service provides one, that is a
 * denial. What a principal's policies are is read at most every 5 seconds, and at once after a
 * change in this process (IAM, too, is eventually consistent). Credentials from GetSessionToken
 * made without MFA cannot call IAM, and cannot call STS other than AssumeRole and
 * GetCallerIdentity, as AWS documents.
 */
public final class PolicyAuthorizer implements Authorizer {
    private static final long TTL_NANOS = 5_000_000_000L;
    private static final int CACHE_MAX = 10_000;
    private static final Set<String> TRUST_ACTIONS = Set.of("sts:assumerole", "sts:tagsession", "sts:setsourceidentity");
    /**
     * Actions that name a resource in order to create it: the caller's own policies decide, as for
     * a resource that does not exist yet, and a name already taken is the operation's answer
     * ({@code BucketAlreadyExists}), not an access denial by the name's owner.
     */
    private static final Set<String> CREATING_ACTIONS = Set.of("s3:createbucket");

    /** What applies to one principal: its identity policies and its boundary. */
    private record Policies(List<PolicyEvaluator.Source> identity, Optional<PolicyEvaluator.Source> boundary, long expiresAt) {
    }

    private record Scps(List<List<PolicyEvaluator.Source>> levels, long expiresAt) {
    }

    private record Trust(Optional<PolicyEvaluator.Source> policy, long expiresAt) {
    }

    /**
     * A service whose resources carry a policy that must allow every request (a KMS key policy), and
     * that may also allow by other means (KMS grants).
     */
    public interface ResourcePolicies {
        /**
         * Empty when this service does not govern the resource (or it does not exist, so the
         * operation reports that); otherwise the policy that must allow.
         */
        Optional<PolicyEvaluator.Source> requiredPolicy(String action, String resource);

        /** Whether something besides policies allows this principal the action on the resource. */
        default boolean grantAllows(Principal principal, String action, String resource, Map<String, List<String>> context) {
            return false;
        }

        /**
         * For a resource whose ARN names no account (an S3 bucket or object): the account that owns
         * it and its resource-based policy, if this service knows the resource.
         */
        default Optional<ResourceOwner> owner(String resource) {
            return Optional.empty();
        }

        /**
         * For a resource whose ARN names its account (an ECR repository): its resource-based
         * policy, if it has one. Like a bucket policy it may allow on its own within the account,
         * and across accounts it must allow as well as the caller's own policies.
         */
        default Optional<PolicyEvaluator.Source> resourcePolicy(String resource) {
            return Optional.empty();
        }
    }

    /** Who owns a resource whose ARN does not say, and the resource-based policy it has, if any. */
    public record ResourceOwner(String account, Optional<PolicyEvaluator.Source> policy) {
    }

    private final AccountDirectory directory;
    private final List<ResourcePolicies> resourcePolicies = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Map<String, PolicyEvaluator.Source> endpointPolicies;
    private final ConcurrentHashMap<String, Policies> principals = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Scps> scps = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Trust> trusts = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Policy> parsed = new ConcurrentHashMap<>();

    /** @param endpointPolicies the policy of each private endpoint that has one, by endpoint id */
    public PolicyAuthorizer(AccountDirectory directory, Map<String, Policy> endpointPolicies) {
        this.directory = directory;
        Map<String, PolicyEvaluator.Source> sources = new HashMap<>();
        endpointPolicies.forEach((id, policy) -> sources.put(id, new PolicyEvaluator.Source("the VPC endpoint policy of " + id, policy)));
        this.endpointPolicies = Map.copyOf(sources);
        directory.onIdentityChange(() -> {
            principals.clear();
            scps.clear();
            trusts.clear();
            resourceTags.clear();
        });
    }

    public PolicyAuthorizer(AccountDirectory directory) {
        this(directory, Map.of());
    }

    /** Adds a service's required resource policies (and grants) to every decision. */
    public void register(ResourcePolicies policies) {
        resourcePolicies.add(policies);
    }

    @Override
    public AuthorizationDecision authorize(AuthorizationRequest request) {
        Principal p = request.principal();
        if (p.isService()) {
            return authorizeService(request);
        }
        String lowerAction = request.action().toLowerCase(java.util.Locale.ROOT);
        Optional<String> restricted = sessionRestriction(p, lowerAction);
        if (restricted.isPresent()) {
            return AuthorizationDecision.deny(request.resources().isEmpty() ? "*" : request.resources().getFirst(), restricted.get());
        }
        Policies policies = policies(p);
        List<PolicyEvaluator.Source> session = sessionPolicies(p);
        List<List<PolicyEvaluator.Source>> serviceControl = serviceControlPolicies(p.account());
        String roleArn = p.isRoleSession() ? p.session().map(Principal.Session::issuer).orElse("") : "";
        List<String> vpce = request.context().get("aws:SourceVpce");
        Optional<PolicyEvaluator.Source> endpoint = vpce == null || vpce.isEmpty() ? Optional.empty()
                : Optional.ofNullable(endpointPolicies.get(vpce.getFirst()));
        for (String resource : request.resources()) {
            String resourceAccount = resourceAccount(resource);
            Optional<PolicyEvaluator.Source> ownerPolicy = Optional.empty();
            if (resourceAccount.isEmpty() && !resource.equals("*") && !CREATING_ACTIONS.contains(lowerAction)) {
                for (ResourcePolicies provider : resourcePolicies) {
                    Optional<ResourceOwner> owner = provider.owner(resource);
                    if (owner.isPresent()) {
                        resourceAccount = owner.get().account();
                        ownerPolicy = owner.get().policy();
                        break;
                    }
                }
            }
            if (ownerPolicy.isEmpty() && !resourceAccount.isEmpty()) {
                for (ResourcePolicies provider : resourcePolicies) {
                    ownerPolicy = provider.resourcePolicy(resource);
                    if (ownerPolicy.isPresent()) {
                        break;
                    }
                }
            }
            RequestFacts facts = new RequestFacts(request.action(), resource, p.arn(), p.account().value(), roleArn,
                    withResourceTags(request.context(), resource, resourceAccount));
            Optional<PolicyEvaluator.Source> resourcePolicy = ownerPolicy;
            if (TRUST_ACTIONS.contains(lowerAction) && resource.contains(":role/")) {
                Optional<PolicyEvaluator.Source> trust = trust(resource);
                if (trust.isEmpty()) {
                    return AuthorizationDecision.deny(resource, "because no resource-based policy allows the " + request.action() + " action");
                }
                Decision byTrust = PolicyEvaluator.evaluateAlone(trust.get(), facts);
                if (!byTrust.allowed()) {
                    return AuthorizationDecision.deny(resource, byTrust.outcome() == Decision.Outcome.EXPLICIT_DENY ? byTrust.reason()
                            : "because no resource-based policy allows the " + request.action() + " action");
                }
                // Within one account the trust policy is required and so is the caller's own
                // permission; across accounts the evaluator requires both sides anyway.
                if (!resourceAccount.equals(p.account().value())) {
                    resourcePolicy = trust;
                }
            }
            boolean policyRequired = false;
            for (ResourcePolicies provider : resourcePolicies) {
                Optional<PolicyEvaluator.Source> required = provider.requiredPolicy(request.action(), resource);
                if (required.isPresent()) {
                    Decision alone = PolicyEvaluator.evaluateAlone(required.get(), facts);
                    if (alone.outcome() == Decision.Outcome.EXPLICIT_DENY) {
                        return AuthorizationDecision.deny(resource, alone.reason());
                    }
                    policyRequired = alone.outcome() != Decision.Outcome.ALLOWED;
                    resourcePolicy = required;
                    if (policyRequired && !provider.grantAllows(p, request.action(), resource, request.context())) {
                        return AuthorizationDecision.deny(resource, "because no resource-based policy allows the " + request.action() + " action");
                    }
                }
            }
            Decision d = PolicyEvaluator.evaluate(new PolicyEvaluator.Input(facts, policies.identity(), resourcePolicy, resourceAccount,
                    policies.boundary(), session, serviceControl, endpoint));
            if (!d.allowed()) {
                // A grant allows what policies leave implicitly denied, never what they deny.
                boolean granted = d.outcome() == Decision.Outcome.IMPLICIT_DENY && resourcePolicies.stream()
                        .anyMatch(r -> r.grantAllows(p, request.action(), resource, request.context()));
                if (!granted) {
                    return AuthorizationDecision.deny(resource, d.reason());
                }
            }
        }
        return AuthorizationDecision.allow();
    }

    /**
     * A service principal acting on its own behalf (Citadel's marketplace launcher): as in AWS, no
     * identity policy, boundary or SCP speaks for it, so each resource must have a resource-based
     * policy (a key policy, a bucket or repository policy) that allows the service principal, or,
     * failing that, a grant for it (a KMS grant whose operation and encryption-context constraints
     * hold). An explicit deny in the resource's policy wins over a grant. Nothing else allows.
     */
    private AuthorizationDecision authorizeService(AuthorizationRequest request) {
        Principal p = request.principal();
        for (String resource : request.resources()) {
            if (resource.equals("*")) {
                return AuthorizationDecision.deny(resource, "because a service principal acts only on named resources");
            }
            Optional<PolicyEvaluator.Source> policy = Optional.empty();
            for (ResourcePolicies provider : resourcePolicies) {
                policy = provider.requiredPolicy(request.action(), resource)
                        .or(() -> provider.owner(resource).flatMap(ResourceOwner::policy))
                        .or(() -> provider.resourcePolicy(resource));
                if (policy.isPresent()) {
                    break;
                }
            }
            RequestFacts facts = RequestFacts.ofService(p.arn(), request.action(), resource, request.context());
            Decision d = policy.map(source -> PolicyEvaluator.evaluateAlone(source, facts)).orElse(null);
            if (d != null && d.outcome() == Decision.Outcome.EXPLICIT_DENY) {
                return AuthorizationDecision.deny(resource, d.reason());
            }
            if (d != null && d.allowed()) {
                continue;
            }
            if (resourcePolicies.stream().noneMatch(r -> r.grantAllows(p, request.action(), resource, request.context()))) {
                return AuthorizationDecision.deny(resource, "because no resource-based policy or grant allows the " + request.action()
                        + " action");
            }
        }
        return AuthorizationDecision.allow();
    }

    /**
     * For an IAM user or role of a known account, its tags as {@code aws:ResourceTag/*} and
     * {@code iam:ResourceTag/*} (read at most every 5 seconds, like the principal's policies).
     */
    private Map<String, List<String>> withResourceTags(Map<String, List<String>> context, String resource, String resourceAccount) {
        int kindAt = resource.indexOf(':', "arn:aws:iam::".length());
        if (!resource.startsWith("arn:aws:iam::") || kindAt < 0 || !dev.citadel.core.AccountId.isValid(resourceAccount)) {
            return context;
        }
        String rest = resource.substring(kindAt + 1);
        String type = rest.startsWith("user/") ? "user" : rest.startsWith("role/") ? "role" : "";
        String name = rest.substring(rest.lastIndexOf('/') + 1);
        if (type.isEmpty() || name.isEmpty() || name.equals("*")) {
            return context;
        }
        long now = System.nanoTime();
        String key = resourceAccount + "/" + type + "/" + name.toLowerCase(java.util.Locale.ROOT);
        ResourceTags c = resourceTags.get(key);
        if (c == null || c.expiresAt - now <= 0) {
            c = new ResourceTags(directory.tags(resourceAccount, type, name), now + TTL_NANOS);
            if (resourceTags.size() >= CACHE_MAX) {
                resourceTags.clear();
            }
            resourceTags.put(key, c);
        }
        if (c.tags.isEmpty()) {
            return context;
        }
        Map<String, List<String>> out = new HashMap<>(context);
        c.tags.forEach((k, v) -> {
            out.put("aws:ResourceTag/" + k, List.of(v));
            out.put("iam:ResourceTag/" + k, List.of(v));
        });
        return out;
    }

    private record ResourceTags(Map<String, String> tags, long expiresAt) {
    }

    private final ConcurrentHashMap<String, ResourceTags> resourceTags = new ConcurrentHashMap<>();

    private static Optional<String> sessionRestriction(Principal p, String lowerAction) {
        if (p.isRoleSession() || p.session().isEmpty() || p.session().get().mfaAt().isPresent()) {
            return Optional.empty();
        }
        if (lowerAction.startsWith("iam:")) {
            return Optional.of("because credentials from GetSessionToken without MFA cannot call IAM");
        }
        if (lowerAction.startsWith("sts:") && !lowerAction.equals("sts:assumerole") && !lowerAction.equals("sts:getcalleridentity")) {
            return Optional.of("because credentials from GetSessionToken cannot call STS other than AssumeRole and GetCallerIdentity");
        }
        return Optional.empty();
    }

    /** The identity-based policies that apply to a principal, as enforcement sees them (the simulator uses the same). */
    public List<PolicyEvaluator.Source> identityPolicies(Principal p) {
        return policies(p).identity();
    }

    /** The permissions boundary that applies to a principal, as enforcement sees it. */
    public Optional<PolicyEvaluator.Source> boundary(Principal p) {
        return policies(p).boundary();
    }

    private Policies policies(Principal p) {
        long now = System.nanoTime();
        String key = p.account().value() + (p.isRoleSession() ? "/role/" : "/user/") + p.name().toLowerCase(java.util.Locale.ROOT);
        Policies c = principals.get(key);
        if (c != null && c.expiresAt - now > 0) {
            return c;
        }
        String account = p.account().value();
        List<PolicyEvaluator.Source> sources = new ArrayList<>();
        for (String arn : directory.attachedPolicies(p)) {
            managed(account, arn).ifPresent(policy -> sources.add(new PolicyEvaluator.Source(arn, policy)));
        }
        String owner = p.isRoleSession() ? p.session().map(Principal.Session::issuer).orElse(p.arn()) : p.arn();
        directory.inlinePolicies(p).forEach((name, document) -> sources.add(inline(name, owner, document)));
        for (AccountDirectory.GroupPolicies g : directory.groupPolicies(p)) {
            for (String arn : g.attached()) {
                managed(account, arn).ifPresent(policy -> sources.add(new PolicyEvaluator.Source(arn + " through " + g.groupArn(), policy)));
            }
            g.inline().forEach((name, document) -> sources.add(inline(name, g.groupArn(), document)));
        }
        // A boundary whose policy no longer exists allows nothing, as an empty boundary would.
        Optional<PolicyEvaluator.Source> boundary = directory.permissionsBoundary(p).map(arn -> new PolicyEvaluator.Source(
                "the permissions boundary " + arn, managed(account, arn).orElse(NOTHING)));
        Policies fresh = new Policies(List.copyOf(sources), boundary, now + TTL_NANOS);
        if (principals.size() >= CACHE_MAX) {
            principals.clear();
        }
        principals.put(key, fresh);
        return fresh;
    }

    private static final Policy NOTHING = PolicyParser.parse("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\","
            + "\"NotAction\":\"none:none\",\"Resource\":\"*\"}]}", PolicyParser.Kind.IDENTITY);

    /** An AWS managed policy Citadel provides, or a customer managed policy of the account (its default version). */
    public Optional<Policy> managed(String account, String arn) {
        Optional<Policy> aws = ManagedPolicies.byArn(arn);
        if (aws.isPresent()) {
            return aws;
        }
        return directory.customerPolicyDocument(account, arn).map(this::parsed);
    }

    private List<PolicyEvaluator.Source> sessionPolicies(Principal p) {
        if (p.session().isEmpty()) {
            return List.of();
        }
        Principal.Session s = p.session().get();
        if (s.policies().isEmpty() && s.policyArns().isEmpty()) {
            return List.of();
        }
        List<PolicyEvaluator.Source> out = new ArrayList<>();
        for (String document : s.policies()) {
            out.add(new PolicyEvaluator.Source("the session policy", parsed(document)));
        }
        for (String arn : s.policyArns()) {
            // A session policy ARN that no longer resolves still narrows the session: to nothing.
            out.add(new PolicyEvaluator.Source("the session policy " + arn, managed(p.account().value(), arn).orElse(NOTHING)));
        }
        return out;
    }

    private List<List<PolicyEvaluator.Source>> serviceControlPolicies(AccountId account) {
        long now = System.nanoTime();
        Scps c = scps.get(account.value());
        if (c != null && c.expiresAt - now > 0) {
            return c.levels;
        }
        List<List<PolicyEvaluator.Source>> levels = new ArrayList<>();
        List<List<String>> documents = directory.serviceControlPolicies(account);
        for (int i = 0; i < documents.size(); i++) {
            String name = i == 0 ? "the service control policies of the root"
                    : i == documents.size() - 1 ? "the service control policies of account " + account
                    : "the service control policies of an organizational unit";
            List<PolicyEvaluator.Source> level = new ArrayList<>();
            for (String document : documents.get(i)) {
                level.add(new PolicyEvaluator.Source(name, parsed(document, PolicyParser.Kind.SERVICE_CONTROL)));
            }
            levels.add(level);
        }
        scps.put(account.value(), new Scps(List.copyOf(levels), now + TTL_NANOS));
        return levels;
    }

    private Optional<PolicyEvaluator.Source> trust(String roleArn) {
        long now = System.nanoTime();
        Trust c = trusts.get(roleArn);
        if (c != null && c.expiresAt - now > 0) {
            return c.policy;
        }
        Optional<IamRole> role = directory.roleByArn(roleArn);
        Optional<PolicyEvaluator.Source> policy = role.map(r -> new PolicyEvaluator.Source("the trust policy of " + r.arn(),
                parsed(r.assumeRolePolicyDocument(), PolicyParser.Kind.TRUST)));
        if (trusts.size() >= CACHE_MAX) {
            trusts.clear();
        }
        trusts.put(roleArn, new Trust(policy, now + TTL_NANOS));
        return policy;
    }

    private Policy parsed(String document) {
        return parsed(document, PolicyParser.Kind.IDENTITY);
    }

    /** Parses a stored document (validated when it was stored); parses are kept by kind and text. */
    private Policy parsed(String document, PolicyParser.Kind kind) {
        String key = kind.name() + "\n" + document;
        Policy p = parsed.get(key);
        if (p == null) {
            try {
                p = PolicyParser.parse(document, kind);
            } catch (MalformedPolicyException e) {
                p = NOTHING;
            }
            if (parsed.size() >= CACHE_MAX) {
                parsed.clear();
            }
            parsed.put(key, p);
        }
        return p;
    }

    private PolicyEvaluator.Source inline(String name, String owner, String document) {
        return new PolicyEvaluator.Source("the inline policy " + name + " of " + owner, parsed(document));
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
