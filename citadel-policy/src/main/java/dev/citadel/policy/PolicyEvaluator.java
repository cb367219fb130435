package dev.citadel.policy;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * AWS's policy evaluation logic for one request:
 * <ol>
 *   <li>an explicit Deny in any applicable policy (SCPs, resource policy, identity policies,
 *       permission boundary, session policies) denies;</li>
 *   <li>every level of service control policies must allow (member accounts only);</li>
 *   <li>a request through a VPC endpoint must be allowed by the endpoint's policy;</li>
 *   <li>cross-account: both an identity-based allow and the resource owner's resource-based allow
 *       are needed;</li>
 *   <li>same account: an identity-based allow within the permission boundary and the session
 *       policies, or a resource-based allow (which, for a principal it names directly, is not
 *       narrowed by a boundary or session policy);</li>
 *   <li>otherwise the request is implicitly denied.</li>
 * </ol>
 */
public final class PolicyEvaluator {
    /** A policy and the name it is reported by (policy ARN, inline policy name, "resource policy"). */
    public record Source(String name, Policy policy) {
        public Source {
            requireNonNull(name, "name is null");
            requireNonNull(policy, "policy is null");
        }
    }

    /** All the policies that bear on one request. */
    public record Input(RequestFacts facts, List<Source> identity, Optional<Source> resource, String resourceAccount,
            Optional<Source> boundary, List<Source> session, List<List<Source>> serviceControl, Optional<Source> endpoint) {
        /** A request that came through no VPC endpoint. */
        public Input(RequestFacts facts, List<Source> identity, Optional<Source> resource, String resourceAccount,
                Optional<Source> boundary, List<Source> session, List<List<Source>> serviceControl) {
            this(facts, identity, resource, resourceAccount, boundary, session, serviceControl, Optional.empty());
        }

        public Input {
            requireNonNull(endpoint, "endpoint is null");
            requireNonNull(facts, "facts is null");
            identity = List.copyOf(identity);
            requireNonNull(resource, "resource is null");
            requireNonNull(resourceAccount, "resourceAccount is null");
            requireNonNull(boundary, "boundary is null");
            session = List.copyOf(session);
            serviceControl = serviceControl.stream().map(List::copyOf).toList();
        }
    }

    private PolicyEvaluator() {
    }

    public static Decision evaluate(Input in) {
        RequestFacts f = in.facts();
        List<Decision.MatchedStatement> denies = new ArrayList<>();
        List<Source> all = new ArrayList<>(in.identity());
        in.boundary().ifPresent(all::add);
        all.addAll(in.session());
        in.serviceControl().forEach(all::addAll);
        for (Source s : all) {
            collect(s, f, Effect.DENY, false, denies);
        }
        in.resource().ifPresent(r -> collect(r, f, Effect.DENY, true, denies));
        in.endpoint().ifPresent(e -> collect(e, f, Effect.DENY, true, denies));
        if (!denies.isEmpty()) {
            return new Decision(Decision.Outcome.EXPLICIT_DENY, denies, "with an explicit deny in " + describe(denies.getFirst()));
        }
        for (List<Source> level : in.serviceControl()) {
            if (!allows(level, f, false)) {
                return new Decision(Decision.Outcome.IMPLICIT_DENY, List.of(), "because no service control policy allows the " + f.action() + " action");
            }
        }
        if (in.endpoint().isPresent() && !allows(List.of(in.endpoint().get()), f, true)) {
            return new Decision(Decision.Outcome.IMPLICIT_DENY, List.of(), "because no VPC endpoint policy allows the " + f.action() + " action");
        }
        List<Decision.MatchedStatement> identityAllows = new ArrayList<>();
        for (Source s : in.identity()) {
            collect(s, f, Effect.ALLOW, false, identityAllows);
            if (!identityAllows.isEmpty()) {
                break;
            }
        }
        List<Decision.MatchedStatement> resourceAllows = new ArrayList<>();
        in.resource().ifPresent(r -> collect(r, f, Effect.ALLOW, true, resourceAllows));
        boolean boundaryOk = in.boundary().map(b -> allows(List.of(b), f, false)).orElse(true);
        boolean sessionOk = in.session().isEmpty() || allows(in.session(), f, false);
        boolean crossAccount = !in.resourceAccount().isEmpty() && !in.resourceAccount().equals(f.principalAccount());
        boolean identityOk = !identityAllows.isEmpty() && boundaryOk && sessionOk;
        if (crossAccount) {
            if (identityOk && !resourceAllows.isEmpty()) {
                List<Decision.MatchedStatement> both = new ArrayList<>(identityAllows);
                both.addAll(resourceAllows);
                return new Decision(Decision.Outcome.ALLOWED, both, "");
            }
            return new Decision(Decision.Outcome.IMPLICIT_DENY, List.of(), identityAllows.isEmpty()
                    ? "because no identity-based policy allows the " + f.action() + " action"
                    : "because no resource-based policy allows the " + f.action() + " action");
        }
        if (identityOk) {
            return new Decision(Decision.Outcome.ALLOWED, identityAllows, "");
        }
        // Within one account a resource-based policy grants on its own only to a principal it
        // names: the user or role session ARN (not narrowed by boundary or session policies), or
        // the role ARN (narrowed by them). Naming the account delegates to the account's own
        // identity-based policies, which must then allow.
        if (!resourceAllows.isEmpty() && (namesPrincipal(resourceAllows, f.principalArn())
                || (!f.roleArn().isEmpty() && namesPrincipal(resourceAllows, f.roleArn()) && boundaryOk && sessionOk))) {
            return new Decision(Decision.Outcome.ALLOWED, resourceAllows, "");
        }
        String reason;
        if (identityAllows.isEmpty()) {
            reason = "because no identity-based policy allows the " + f.action() + " action";
        } else if (!boundaryOk) {
            reason = "because no permissions boundary allows the " + f.action() + " action";
        } else {
            reason = "because no session policy allows the " + f.action() + " action";
        }
        return new Decision(Decision.Outcome.IMPLICIT_DENY, List.of(), reason);
    }

    private static boolean namesPrincipal(List<Decision.MatchedStatement> allows, String arn) {
        for (Decision.MatchedStatement m : allows) {
            if (!m.statement().notPrincipal() && m.statement().principals().contains("AWS:" + arn)) {
                return true;
            }
        }
        return false;
    }

    /**
     * One resource-based policy on its own (a role's trust policy, a key policy): an explicit deny
     * if a Deny applies to the principal, allowed if an Allow does, else an implicit deny. Whether
     * that is enough depends on the caller's rules for that policy.
     */
    public static Decision evaluateAlone(Source policy, RequestFacts f) {
        List<Decision.MatchedStatement> denies = new ArrayList<>();
        collect(policy, f, Effect.DENY, true, denies);
        if (!denies.isEmpty()) {
            return new Decision(Decision.Outcome.EXPLICIT_DENY, denies, "with an explicit deny in " + describe(denies.getFirst()));
        }
        List<Decision.MatchedStatement> allows = new ArrayList<>();
        collect(policy, f, Effect.ALLOW, true, allows);
        return allows.isEmpty()
                ? new Decision(Decision.Outcome.IMPLICIT_DENY, List.of(), "because no resource-based policy allows the " + f.action() + " action")
                : new Decision(Decision.Outcome.ALLOWED, allows, "");
    }

    private static boolean allows(List<Source> sources, RequestFacts f, boolean principalMatters) {
        List<Decision.MatchedStatement> found = new ArrayList<>();
        for (Source s : sources) {
            collect(s, f, Effect.ALLOW, principalMatters, found);
            if (!found.isEmpty()) {
                return true;
            }
        }
        return false;
    }

    /** Adds the statements of {@code effect} that apply; for Allow the first one decides, so it stops there. */
    private static void collect(Source source, RequestFacts f, Effect effect, boolean principalMatters, List<Decision.MatchedStatement> out) {
        for (Statement s : source.policy().statements()) {
            if (s.effect() == effect && StatementMatcher.applies(s, source.policy(), f, principalMatters)) {
                out.add(new Decision.MatchedStatement(source.name(), s));
                if (effect == Effect.ALLOW) {
                    return;
                }
            }
        }
    }

    private static String describe(Decision.MatchedStatement m) {
        return m.source();
    }
}
