package dev.citadel.policy;

import static java.util.Objects.requireNonNull;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a decision is about: the action, the resource ARN, who asks, and the request context keys
 * ({@code aws:SourceIp}, {@code aws:username}, service keys, …). Context key names are compared
 * without regard to case, as IAM does.
 *
 * @param principalArn   the caller's ARN (an assumed-role session ARN for role sessions)
 * @param roleArn        for a role session, the role's ARN; else empty
 */
public record RequestFacts(String action, String resource, String principalArn, String principalAccount, String roleArn,
        Map<String, List<String>> context) {
    public RequestFacts {
        requireNonNull(action, "action is null");
        requireNonNull(resource, "resource is null");
        requireNonNull(principalArn, "principalArn is null");
        requireNonNull(principalAccount, "principalAccount is null");
        requireNonNull(roleArn, "roleArn is null");
        Map<String, List<String>> lower = new HashMap<>();
        context.forEach((k, v) -> lower.put(k.toLowerCase(Locale.ROOT), List.copyOf(v)));
        context = Map.copyOf(lower);
    }

    /**
     * A request made by an AWS service principal ({@code cloudtrail.amazonaws.com}) on its own
     * behalf, as Citadel's own services make them (delivering a trail's files): it matches
     * {@code "Principal": {"Service": …}} statements naming that service, and {@code "*"}; it
     * belongs to no account. Only Citadel's own code makes such facts; no authenticated request
     * can.
     */
    public static RequestFacts ofService(String servicePrincipal, String action, String resource, Map<String, List<String>> context) {
        return new RequestFacts(action, resource, servicePrincipal, "", "", context);
    }

    /** The values of a context key, or null when the request does not carry it. */
    public List<String> values(String key) {
        return context.get(key.toLowerCase(Locale.ROOT));
    }

    /** The same for a key already in lower case (conditions keep theirs so). */
    List<String> valuesOfLowerCaseKey(String lowerKey) {
        return context.get(lowerKey);
    }

    /** The same question about another resource. */
    public RequestFacts withResource(String otherResource) {
        return new RequestFacts(action, otherResource, principalArn, principalAccount, roleArn, context);
    }
}
