package dev.citadel.policy;

import java.util.List;
import java.util.Optional;

/**
 * Whether a statement applies to a request: its action, resource, principal (for resource and
 * trust policies) and every condition. Conditions follow IAM's documented rules: blocks and keys
 * AND together, a key's values OR together; a missing key fails a positive operator and passes a
 * negated one; {@code IfExists} passes a missing key; {@code Null} tests presence;
 * {@code ForAnyValue} needs one request value to match (false for a missing or empty key) and
 * {@code ForAllValues} needs every request value to match (true for a missing or empty key).
 * Policy variables ({@code ${aws:username}}, {@code ${aws:PrincipalTag/k}}, {@code ${*}},
 * {@code ${?}}, {@code ${$}}, with an optional {@code , 'default'}) are replaced in resources and
 * condition values of version 2012-10-17 policies; a variable with no value makes the element not
 * match.
 */
public final class StatementMatcher {
    private StatementMatcher() {
    }

    public static boolean applies(Statement s, Policy policy, RequestFacts f, boolean principalMatters) {
        if (matchesAny(s.actions(), f.action(), true, policy, f) == s.notAction()) {
            return false;
        }
        if (matchesAny(s.resources(), f.resource(), false, policy, f) == s.notResource()) {
            return false;
        }
        if (principalMatters && principalMatches(s.principals(), f) == s.notPrincipal()) {
            return false;
        }
        for (Condition c : s.conditions()) {
            if (!conditionHolds(c, policy, f)) {
                return false;
            }
        }
        return true;
    }

    private static boolean matchesAny(List<String> patterns, String value, boolean ignoreCase, Policy policy, RequestFacts f) {
        for (String p : patterns) {
            Optional<String> resolved = ignoreCase ? Optional.of(p) : substitute(p, policy, f);
            if (resolved.isPresent() && Glob.matches(resolved.get(), value, ignoreCase)) {
                return true;
            }
        }
        return false;
    }

    static boolean principalMatches(List<String> principals, RequestFacts f) {
        for (String p : principals) {
            if (p.equals("*") || p.equals("AWS:*")) {
                return true;
            }
            if (p.startsWith("Service:") && f.principalAccount().isEmpty() && p.substring(8).equals(f.principalArn())) {
                return true;
            }
            if (!p.startsWith("AWS:")) {
                continue;
            }
            String id = p.substring(4);
            if (id.equals(f.principalAccount()) || id.equals("arn:aws:iam::" + f.principalAccount() + ":root")) {
                return true;
            }
            if (id.equals(f.principalArn()) || (!f.roleArn().isEmpty() && id.equals(f.roleArn()))) {
                return true;
            }
        }
        return false;
    }

    static boolean conditionHolds(Condition c, Policy policy, RequestFacts f) {
        List<String> context = f.valuesOfLowerCaseKey(c.lowerKey());
        boolean missing = context == null || context.isEmpty();
        if (c.operator() == ConditionOperator.NULL) {
            boolean wantAbsent = c.values().stream().anyMatch(v -> v.equalsIgnoreCase("true"));
            boolean wantPresent = c.values().stream().anyMatch(v -> v.equalsIgnoreCase("false"));
            return missing ? wantAbsent : wantPresent;
        }
        if (missing) {
            if (c.qualifier() == Condition.Qualifier.FOR_ALL_VALUES) {
                return true;
            }
            if (c.qualifier() == Condition.Qualifier.FOR_ANY_VALUE) {
                return false;
            }
            return c.ifExists() || c.operator().negated();
        }
        List<String> policyValues = c.values();
        if (policy.variablesEnabled()) {
            List<String> resolved = new java.util.ArrayList<>(policyValues.size());
            for (String v : policyValues) {
                substitute(v, policy, f).ifPresent(resolved::add);
            }
            policyValues = resolved;
        }
        if (c.qualifier() == Condition.Qualifier.FOR_ALL_VALUES) {
            for (String v : context) {
                if (!valueMatches(c.operator(), policyValues, v)) {
                    return false;
                }
            }
            return true;
        }
        for (String v : context) {
            if (valueMatches(c.operator(), policyValues, v)) {
                return true;
            }
        }
        return false;
    }

    /** One request value against the policy's values: any positive match; for a negated operator, no positive match. */
    private static boolean valueMatches(ConditionOperator op, List<String> policyValues, String value) {
        boolean any = false;
        for (String p : policyValues) {
            if (op.positiveMatch(p, value)) {
                any = true;
                break;
            }
        }
        return op.negated() != any;
    }

    /** Replaces policy variables; empty when one has no value and no default. */
    static Optional<String> substitute(String text, Policy policy, RequestFacts f) {
        if (!policy.variablesEnabled() || !text.contains("${")) {
            return Optional.of(text);
        }
        StringBuilder out = new StringBuilder(text.length());
        int i = 0;
        while (i < text.length()) {
            int start = text.indexOf("${", i);
            if (start < 0) {
                out.append(text, i, text.length());
                break;
            }
            int end = text.indexOf('}', start);
            if (end < 0) {
                out.append(text, i, text.length());
                break;
            }
            out.append(text, i, start);
            String body = text.substring(start + 2, end);
            switch (body) {
                case "*" -> out.append('*');
                case "?" -> out.append('?');
                case "$" -> out.append('$');
                default -> {
                    String key = body;
                    String fallback = null;
                    int comma = body.indexOf(',');
                    if (comma > 0) {
                        key = body.substring(0, comma).strip();
                        String d = body.substring(comma + 1).strip();
                        if (d.length() >= 2 && d.startsWith("'") && d.endsWith("'")) {
                            fallback = d.substring(1, d.length() - 1);
                        }
                    }
                    List<String> v = f.values(key);
                    if (v != null && v.size() == 1) {
                        out.append(v.getFirst());
                    } else if (fallback != null) {
                        out.append(fallback);
                    } else {
                        return Optional.empty();
                    }
                }
            }
            i = end + 1;
        }
        return Optional.of(out.toString());
    }
}
