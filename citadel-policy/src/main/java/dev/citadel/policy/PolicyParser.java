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
 * legacy parsing ({@code The policy failed legacy parsing}: effect case, dates, unsplittable
 * resources), statement ids, actions, resource formats (partition, region, IAM paths), action
 * vendors, then the presence of resources and principals by kind. Identity policies must be
 * version 2012-10-17 and name no principal; resource and trust policies must name one and may be
 * 2008-10-17 (the default when Version is absent). Size is checked before parsing. The order and
 * messages are checked against moto's record of IAM's answers ({@code MotoPolicyDocumentsTest}).
 */
public final class PolicyParser {
    /** What a document is for; it decides the rules on Principal, Resource and Version. */
    public enum Kind { IDENTITY, RESOURCE, TRUST, SERVICE_CONTROL }

    public static final int MAX_IDENTITY_POLICY_CHARS = 6144;
    public static final int MAX_RESOURCE_POLICY_CHARS = 20480;
    private static final Set<String> TOP = Set.of("Version", "Id", "Statement");
    private static final Set<String> STATEMENT = Set.of("Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource",
            "NotResource", "Condition");
    /** The partitions a resource ARN may name, besides {@code *}. */
    private static final Set<String> PARTITIONS = Set.of("aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f",
            "aws-eusc");
    /** How the resource part of an IAM resource ARN may begin, in the order IAM's message lists them. */
    private static final List<String> IAM_RESOURCE_PATHS = List.of("user/", "federated-user/", "role/", "group/",
            "instance-profile/", "mfa/", "server-certificate/", "policy/", "sms-mfa/", "saml-provider/", "oidc-provider/", "report/",
            "access-report/");
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
        Optional<String> resourceError = legacyParse(statements);
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
        if (resourceError.isPresent()) {
            throw new MalformedPolicyException(resourceError.get());
        }
        for (String key : List.of("Action", "NotAction")) {
            for (JsonNode s : statements) {
                for (String a : strings(s, key)) {
                    checkActionPrefix(a);
                }
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
            boolean hasPrincipal = s.has("Principal") || s.has("NotPrincipal");
            if ((kind == Kind.IDENTITY || kind == Kind.SERVICE_CONTROL) && hasPrincipal) {
                throw new MalformedPolicyException("Policy document should not specify a principal.");
            }
            if ((kind == Kind.RESOURCE || kind == Kind.TRUST) && !hasPrincipal) {
                throw new MalformedPolicyException("Missing required field Principal");
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
            // IAM's grammar takes the effect in any case; only its legacy parser insists on "Allow" or "Deny".
            if (!s.has("Effect") || !s.get("Effect").isTextual()
                    || !(s.get("Effect").asText().equalsIgnoreCase("Allow") || s.get("Effect").asText().equalsIgnoreCase("Deny"))) {
                throw syntax();
            }
            if ((s.has("Action") && s.has("NotAction")) || (s.has("Resource") && s.has("NotResource"))
                    || (s.has("Principal") && s.has("NotPrincipal"))) {
                throw syntax();
            }
            for (String key : List.of("Action", "NotAction")) {
                if (s.has(key) && !stringOrStrings(s.get(key), false)) {
                    throw syntax();
                }
            }
            // IAM takes a null among the resources of a list, and it names nothing.
            for (String key : List.of("Resource", "NotResource")) {
                if (s.has(key) && !stringOrStrings(s.get(key), true)) {
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

    private static boolean stringOrStrings(JsonNode n, boolean nullsAllowed) {
        if (n.isTextual()) {
            return true;
        }
        if (!n.isArray()) {
            return false;
        }
        for (JsonNode x : n) {
            if (!(x.isTextual() || (nullsAllowed && x.isNull()))) {
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
            if (!Set.of("AWS", "Service", "Federated", "CanonicalUser").contains(e.getKey()) || !stringOrStrings(e.getValue(), false)) {
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
            n.forEach(x -> {
                if (x.isTextual()) {
                    out.add(x.asText());
                }
            });
        }
        return out;
    }

    /**
     * IAM's legacy parser, which runs after the version check and before everything else: effects
     * spelled exactly {@code Allow} or {@code Deny}, dates that parse, and resources it can split.
     * Returns the first resource format error, which IAM reports only after the SID and action
     * checks; a statement is split by the legacy parser only while no format error has been found.
     */
    private static Optional<String> legacyParse(List<JsonNode> statements) {
        for (JsonNode s : statements) {
            String effect = s.get("Effect").asText();
            if (!effect.equals("Allow") && !effect.equals("Deny")) {
                throw legacy();
            }
            if (s.has("Condition")) {
                for (Iterator<Map.Entry<String, JsonNode>> it = s.get("Condition").fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> block = it.next();
                    if (strippedOperator(block.getKey()).startsWith("Date")) {
                        for (JsonNode v : block.getValue()) {
                            for (JsonNode x : v.isArray() ? v : List.of(v)) {
                                if (!(x.isTextual() || x.isNumber()) || !legacyDate(x.asText())) {
                                    throw legacy();
                                }
                            }
                        }
                    }
                }
            }
        }
        Optional<String> error = Optional.empty();
        for (String key : List.of("Resource", "NotResource")) {
            for (JsonNode s : statements) {
                if (!s.has(key)) {
                    continue;
                }
                List<String> resources = strings(s, key);
                // Of a list, IAM names the error of the first erroneous resource in sorted order.
                for (String r : s.get(key).isArray() ? resources.stream().sorted().toList() : resources) {
                    if (error.isEmpty()) {
                        error = resourceFormatError(r);
                    }
                }
                if (error.isEmpty()) {
                    for (String r : resources) {
                        if (!legacyResource(r)) {
                            throw legacy();
                        }
                    }
                }
            }
        }
        return error;
    }

    /** A condition block name without its {@code ForAnyValue:}/{@code ForAllValues:} prefix and {@code IfExists} suffix. */
    private static String strippedOperator(String blockName) {
        String name = blockName;
        for (String prefix : List.of("ForAnyValue:", "ForAllValues:")) {
            if (name.startsWith(prefix)) {
                name = name.substring(prefix.length());
                break;
            }
        }
        return name.endsWith("IfExists") ? name.substring(0, name.length() - "IfExists".length()) : name;
    }

    /** Whether the legacy parser can split a resource: six ARN fields where it has empty ones, and a service. */
    private static boolean legacyResource(String r) {
        if (r.equals("*")) {
            return true;
        }
        String[] fields = r.split(":", -1);
        boolean colons = fields.length - 1 >= 5 || !r.contains("::");
        return colons && fields.length > 2 && !fields[2].isEmpty();
    }

    /** IAM's message for a resource that is not an ARN it accepts, if it is not. */
    static Optional<String> resourceFormatError(String resource) {
        if (resource.equals("*")) {
            return Optional.empty();
        }
        int colon = resource.indexOf(':');
        if (colon < 0) {
            return Optional.of("Resource " + resource + " must be in ARN format or \"*\".");
        }
        String[] afterArn = split2(resource.substring(colon + 1));
        String partition = afterArn[0];
        if (!partition.equals("*") && !PARTITIONS.contains(partition)) {
            String[] parts = afterArn[1] == null ? new String[] {""} : afterArn[1].split(":", -1);
            String service = !parts[0].isEmpty() || parts.length > 1 ? parts[0] : "*";
            String region = parts.length > 1 ? parts[1] : "*";
            String account = parts.length > 2 ? parts[2] : "*";
            String id = parts.length > 3 ? String.join(":", List.of(parts).subList(3, parts.length)) : "*";
            return Optional.of("Partition \"" + partition + "\" is not valid for resource \"arn:" + partition + ":" + service + ":"
                    + region + ":" + account + ":" + id + "\".");
        }
        if (afterArn[1] == null) {
            return Optional.of("Resource vendor must be fully qualified and cannot contain regexes.");
        }
        String[] afterPartition = split2(afterArn[1]);
        String service = afterPartition[0];
        String afterService = afterPartition[1] == null ? "" : afterPartition[1];
        String[] afterRegion = split2(afterService);
        String[] afterAccount = split2(afterRegion[1] == null ? "" : afterRegion[1]);
        String id = afterAccount[1] == null ? "" : afterAccount[1];
        if (service.equals("iam") && !afterService.startsWith(":")) {
            return Optional.of("IAM resource " + resource + " cannot contain region information.");
        }
        if (service.equals("s3") && !afterService.startsWith(":") && !id.startsWith("accesspoint/")) {
            return Optional.of("Resource " + resource + " can not contain region information.");
        }
        if (service.equals("iam") && !id.equals("*") && IAM_RESOURCE_PATHS.stream().noneMatch(id::startsWith)) {
            return Optional.of("IAM resource path must either be \"*\" or start with " + String.join(", ", IAM_RESOURCE_PATHS) + ".");
        }
        return Optional.empty();
    }

    /** The text before the first colon and the text after it (null when there is no colon). */
    private static String[] split2(String s) {
        int i = s.indexOf(':');
        return i < 0 ? new String[] {s, null} : new String[] {s.substring(0, i), s.substring(i + 1)};
    }

    /** Whether IAM's legacy parser reads a Date condition value: an ISO 8601 date-time or epoch seconds. */
    static boolean legacyDate(String value) {
        String v = value.toLowerCase(java.util.Locale.ROOT);
        if (v.contains("t") || v.contains("-")) {
            return iso8601(v);
        }
        return inRange(v, 0, Long.MAX_VALUE);
    }

    private static boolean iso8601(String v) {
        String[] dateTime = v.split("t", 2);
        String date = dateTime[0];
        boolean negativeYear = date.startsWith("-");
        String[] dateParts = (negativeYear ? date.substring(1) : date).split("-", -1);
        if (!inRange((negativeYear ? "-" : "") + dateParts[0], -292275054L, 292278993L)
                || (dateParts.length > 1 && !inRange(dateParts[1], 1, 12))
                || (dateParts.length > 2 && !inRange(dateParts[2], 1, 31)) || dateParts.length > 3) {
            return false;
        }
        if (dateTime.length == 1) {
            return true;
        }
        String[] time = dateTime[1].split(":", -1);
        if ((!time[0].isEmpty() && !inRange(time[0], 0, 23)) || (time.length > 1 && !inRange(time[1], 0, 59))) {
            return false;
        }
        if (time.length <= 2) {
            return true;
        }
        String seconds = time[2];
        int zone = seconds.indexOf('z');
        int offset = Math.max(seconds.indexOf('+'), seconds.indexOf('-'));
        if (zone >= 0) {
            if (zone != seconds.length() - 1 || time.length > 3) {
                return false;
            }
            seconds = seconds.substring(0, zone);
        } else if (offset >= 0) {
            String hours = seconds.substring(offset + 1);
            if (hours.length() != 2 || !inRange(hours, 0, 23) || time.length > 4
                    || (time.length == 4 && (time[3].length() != 2 || !inRange(time[3], 0, 59)))) {
                return false;
            }
            seconds = seconds.substring(0, offset);
        } else if (time.length > 3) {
            return false;
        }
        String[] fraction = seconds.split("\\.", 2);
        return inRange(fraction[0], 0, 59) && (fraction.length == 1 || inRange(fraction[1], 0, 999_999_999));
    }

    /** Whether {@code s} is a decimal integer (an optional sign, then digits) from {@code min} to {@code max}. */
    private static boolean inRange(String s, long min, long max) {
        String t = s.strip();
        if (!t.matches("[+-]?[0-9]+")) {
            return false;
        }
        java.math.BigInteger n = new java.math.BigInteger(t.startsWith("+") ? t.substring(1) : t);
        return n.compareTo(java.math.BigInteger.valueOf(min)) >= 0 && n.compareTo(java.math.BigInteger.valueOf(max)) <= 0;
    }

    private static void checkActionPrefix(String action) {
        String[] parts = action.split(":", -1);
        if (parts.length == 1 && !action.equals("*")) {
            throw new MalformedPolicyException("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.");
        }
        if (parts.length > 2) {
            throw new MalformedPolicyException("Actions/Condition can contain only one colon.");
        }
        if (!VENDOR.matcher(parts[0]).matches()) {
            throw new MalformedPolicyException("Vendor " + parts[0] + " is not valid");
        }
    }

    private static MalformedPolicyException legacy() {
        return new MalformedPolicyException("The policy failed legacy parsing");
    }

    private static MalformedPolicyException syntax() {
        return new MalformedPolicyException("Syntax errors in policy.");
    }
}
