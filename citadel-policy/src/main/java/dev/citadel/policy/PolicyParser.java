package dev.citadel.policy;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Parses and validates a policy document the way IAM does, in IAM's order, failing with IAM's
 * {@code MalformedPolicyDocument} messages: syntax ({@code Syntax errors in policy.}), version,
 * statement ids, actions, resources, action vendors. Identity policies must be version 2012-10-17
 * and name no principal; resource and trust policies must name one and may be 2008-10-17 (the
 * default when Version is absent). Size is checked before parsing.
 */
public final class PolicyParser {
    /** What a document is for; it decides the rules on Principal, Resource and Version. */
    public enum Kind { IDENTITY, RESOURCE, TRUST, SERVICE_CONTROL }

    public static final int MAX_IDENTITY_POLICY_CHARS = 6144;
    public static final int MAX_RESOURCE_POLICY_CHARS = 20480;
    private static final Set<String> TOP = Set.of("Version", "Id", "Statement");
    private static final Set<String> STATEMENT = Set.of("Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource",
            "NotResource", "Condition");
    private static final Pattern VENDOR = Pattern.compile("[A-Za-z0-9\\-.]+|\\*");
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(32).build()).build())
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private PolicyParser() {
    }

    public static Policy parse(String document, Kind kind) {
        int limit = kind == Kind.IDENTITY || kind == Kind.SERVICE_CONTROL ? MAX_IDENTITY_POLICY_CHARS : MAX_RESOURCE_POLICY_CHARS;
        if (document.codePoints().filter(c -> !Character.isWhitespace(c)).count() > limit) {
            throw new MalformedPolicyException("Cannot exceed quota for PolicySize: " + limit);
        }
        JsonNode root;
        try {
            root = JSON.readTree(document.getBytes(StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            throw syntax();
        }
        List<JsonNode> statements = checkSyntax(root);
        String version = root.has("Version") ? root.get("Version").asText() : Policy.LEGACY;
        if (kind == Kind.IDENTITY && !version.equals(Policy.CURRENT)) {
            throw new MalformedPolicyException("Policy document must be version 2012-10-17 or greater.");
        }
        Set<String> sids = new HashSet<>();
        for (JsonNode s : statements) {
            if (s.hasNonNull("Sid") && !s.get("Sid").asText().isEmpty() && !sids.add(s.get("Sid").asText())) {
                throw new MalformedPolicyException("Statement IDs (SID) in a single policy must be unique.");
            }
        }
        for (JsonNode s : statements) {
            if (!nonEmpty(s, "Action") && !nonEmpty(s, "NotAction")) {
                throw new MalformedPolicyException("Policy statement must contain actions.");
            }
        }
        for (JsonNode s : statements) {
            boolean hasResource = nonEmpty(s, "Resource") || nonEmpty(s, "NotResource");
            if (kind == Kind.TRUST && hasResource) {
                throw new MalformedPolicyException("Has prohibited field Resource.");
            }
            if ((kind == Kind.IDENTITY || kind == Kind.RESOURCE) && !hasResource) {
                throw new MalformedPolicyException("Policy statement must contain resources.");
            }
            for (String r : strings(s, s.has("Resource") ? "Resource" : "NotResource")) {
                if (!r.equals("*") && !r.startsWith("arn:")) {
                    throw new MalformedPolicyException("Resource " + r + " must be in ARN format or \"*\".");
                }
            }
            boolean hasPrincipal = s.has("Principal") || s.has("NotPrincipal");
            if ((kind == Kind.IDENTITY || kind == Kind.SERVICE_CONTROL) && hasPrincipal) {
                throw new MalformedPolicyException("Policy document should not specify a principal.");
            }
            if ((kind == Kind.RESOURCE || kind == Kind.TRUST) && !hasPrincipal) {
                throw new MalformedPolicyException("Missing required field Principal");
            }
        }
        for (JsonNode s : statements) {
            for (String a : strings(s, s.has("Action") ? "Action" : "NotAction")) {
                String[] parts = a.split(":", -1);
                if (parts.length == 1 && !a.equals("*")) {
                    throw new MalformedPolicyException("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.");
                }
                if (parts.length > 2) {
                    throw new MalformedPolicyException("Actions/Condition can contain only one colon.");
                }
                if (!VENDOR.matcher(parts[0]).matches()) {
                    throw new MalformedPolicyException("Vendor " + parts[0] + " is not valid");
                }
            }
        }
        List<Statement> out = new ArrayList<>();
        for (JsonNode s : statements) {
            out.add(statement(s));
        }
        return new Policy(version, root.hasNonNull("Id") ? Optional.of(root.get("Id").asText()) : Optional.empty(), out);
    }

    private static List<JsonNode> checkSyntax(JsonNode root) {
        if (root == null || !root.isObject()) {
            throw syntax();
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            if (!TOP.contains(it.next())) {
                throw syntax();
            }
        }
        if (root.has("Version") && !(root.get("Version").isTextual()
                && (root.get("Version").asText().equals(Policy.CURRENT) || root.get("Version").asText().equals(Policy.LEGACY)))) {
            throw syntax();
        }
        if (root.has("Id") && !root.get("Id").isTextual()) {
            throw syntax();
        }
        JsonNode st = root.get("Statement");
        List<JsonNode> statements = new ArrayList<>();
        if (st == null || !(st.isObject() || st.isArray())) {
            throw syntax();
        }
        if (st.isObject()) {
            statements.add(st);
        } else {
            st.forEach(statements::add);
        }
        if (statements.isEmpty()) {
            throw syntax();
        }
        for (JsonNode s : statements) {
            if (!s.isObject()) {
                throw syntax();
            }
            for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
                if (!STATEMENT.contains(it.next())) {
                    throw syntax();
                }
            }
            if (!s.has("Effect") || !s.get("Effect").isTextual()
                    || !(s.get("Effect").asText().equals("Allow") || s.get("Effect").asText().equals("Deny"))) {
                throw syntax();
            }
            if ((s.has("Action") && s.has("NotAction")) || (s.has("Resource") && s.has("NotResource"))
                    || (s.has("Principal") && s.has("NotPrincipal"))) {
                throw syntax();
            }
            for (String key : List.of("Action", "NotAction", "Resource", "NotResource")) {
                if (s.has(key) && !stringOrStrings(s.get(key))) {
                    throw syntax();
                }
            }
            if (s.has("Sid") && !s.get("Sid").isTextual()) {
                throw syntax();
            }
            for (String key : List.of("Principal", "NotPrincipal")) {
                if (s.has(key) && !principalSyntax(s.get(key))) {
                    throw syntax();
                }
            }
            if (s.has("Condition")) {
                conditionSyntax(s.get("Condition"));
            }
        }
        return statements;
    }

    private static boolean stringOrStrings(JsonNode n) {
        if (n.isTextual()) {
            return true;
        }
        if (!n.isArray()) {
            return false;
        }
        for (JsonNode x : n) {
            if (!x.isTextual()) {
                return false;
            }
        }
        return true;
    }

    private static boolean principalSyntax(JsonNode n) {
        if (n.isTextual()) {
            return n.asText().equals("*");
        }
        if (!n.isObject() || n.isEmpty()) {
            return false;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!Set.of("AWS", "Service", "Federated", "CanonicalUser").contains(e.getKey()) || !stringOrStrings(e.getValue())) {
                return false;
            }
        }
        return true;
    }

    private static void conditionSyntax(JsonNode c) {
        if (!c.isObject()) {
            throw syntax();
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = c.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> op = it.next();
            if (!op.getValue().isObject()) {
                throw syntax();
            }
            for (JsonNode v : op.getValue()) {
                if (!(v.isTextual() || v.isBoolean() || v.isNumber() || v.isArray())) {
                    throw syntax();
                }
                if (v.isArray()) {
                    for (JsonNode x : v) {
                        if (!(x.isTextual() || x.isBoolean() || x.isNumber())) {
                            throw syntax();
                        }
                    }
                }
            }
            if (operator(op.getKey()).isEmpty() && !op.getValue().isEmpty()) {
                throw syntax();
            }
        }
    }

    /** The operator of a condition block name such as {@code ForAnyValue:StringLikeIfExists}. */
    static Optional<Object[]> operator(String blockName) {
        Condition.Qualifier qualifier = Condition.Qualifier.SINGLE;
        String name = blockName;
        if (name.startsWith("ForAnyValue:")) {
            qualifier = Condition.Qualifier.FOR_ANY_VALUE;
            name = name.substring("ForAnyValue:".length());
        } else if (name.startsWith("ForAllValues:")) {
            qualifier = Condition.Qualifier.FOR_ALL_VALUES;
            name = name.substring("ForAllValues:".length());
        }
        boolean ifExists = name.endsWith("IfExists") && !name.equals("Null");
        if (ifExists) {
            name = name.substring(0, name.length() - "IfExists".length());
        }
        Condition.Qualifier q = qualifier;
        return ConditionOperator.byName(name).filter(op -> !(op == ConditionOperator.NULL && blockName.endsWith("IfExists")))
                .map(op -> new Object[] {op, q, ifExists});
    }

    private static Statement statement(JsonNode s) {
        List<Condition> conditions = new ArrayList<>();
        if (s.has("Condition")) {
            for (Iterator<Map.Entry<String, JsonNode>> it = s.get("Condition").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> block = it.next();
                Optional<Object[]> op = operator(block.getKey());
                if (op.isEmpty()) {
                    continue;
                }
                for (Iterator<Map.Entry<String, JsonNode>> keys = block.getValue().fields(); keys.hasNext(); ) {
                    Map.Entry<String, JsonNode> k = keys.next();
                    List<String> values = new ArrayList<>();
                    if (k.getValue().isArray()) {
                        k.getValue().forEach(v -> values.add(v.asText()));
                    } else {
                        values.add(k.getValue().asText());
                    }
                    conditions.add(new Condition((ConditionOperator) op.get()[0], (Condition.Qualifier) op.get()[1], (Boolean) op.get()[2],
                            k.getKey(), values));
                }
            }
        }
        boolean notPrincipal = s.has("NotPrincipal");
        List<String> principals = principals(s.get(notPrincipal ? "NotPrincipal" : "Principal"));
        boolean notAction = s.has("NotAction");
        boolean notResource = s.has("NotResource");
        return new Statement(s.hasNonNull("Sid") ? Optional.of(s.get("Sid").asText()) : Optional.empty(),
                s.get("Effect").asText().equals("Allow") ? Effect.ALLOW : Effect.DENY, principals, notPrincipal,
                strings(s, notAction ? "NotAction" : "Action"), notAction,
                s.has("Resource") || s.has("NotResource") ? strings(s, notResource ? "NotResource" : "Resource") : List.of("*"),
                notResource, conditions);
    }

    private static List<String> principals(JsonNode n) {
        List<String> out = new ArrayList<>();
        if (n == null) {
            return out;
        }
        if (n.isTextual()) {
            out.add("*");
            return out;
        }
        n.fields().forEachRemaining(e -> {
            if (e.getValue().isArray()) {
                e.getValue().forEach(v -> out.add(e.getKey() + ":" + v.asText()));
            } else {
                out.add(e.getKey() + ":" + e.getValue().asText());
            }
        });
        return out;
    }

    private static boolean nonEmpty(JsonNode s, String key) {
        JsonNode n = s.get(key);
        return n != null && (n.isTextual() || (n.isArray() && !n.isEmpty()));
    }

    private static List<String> strings(JsonNode s, String key) {
        JsonNode n = s.get(key);
        List<String> out = new ArrayList<>();
        if (n == null) {
            return out;
        }
        if (n.isTextual()) {
            out.add(n.asText());
        } else {
            n.forEach(x -> out.add(x.asText()));
        }
        return out;
    }

    private static MalformedPolicyException syntax() {
        return new MalformedPolicyException("Syntax errors in policy.");
    }
}
