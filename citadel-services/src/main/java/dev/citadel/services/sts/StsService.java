package dev.citadel.services.sts;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AccountId;
import dev.citadel.core.AwsException;
import dev.citadel.metadata.iam.IamRole;
import dev.citadel.pipeline.Operation;
import dev.citadel.pipeline.Principal;
import dev.citadel.pipeline.RequestContext;
import dev.citadel.pipeline.RequestPipeline;
import dev.citadel.pipeline.authz.AuthorizationDecision;
import dev.citadel.pipeline.authz.AuthorizationRequest;
import dev.citadel.pipeline.authz.Authorizer;
import dev.citadel.pipeline.spec.OperationSpec;
import dev.citadel.pipeline.spec.ResourceResolver;
import dev.citadel.pipeline.spec.ServiceDefinition;
import dev.citadel.policy.MalformedPolicyException;
import dev.citadel.policy.PolicyParser;
import dev.citadel.services.Inputs;
import dev.citadel.services.accounts.AccountDirectory;
import dev.citadel.services.iam.MfaVerifier;
import dev.citadel.wire.Protocol;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * AWS Security Token Service (awsQuery, API version 2011-06-15): who the caller is, role
 * sessions (AssumeRole) and MFA-authenticated user sessions (GetSessionToken). The credentials it
 * hands out are described entirely by their sealed session token ({@link SessionTokens}).
 */
public final class StsService {
    public static final ServiceDefinition DEFINITION = new ServiceDefinition("sts", "sts", "sts", Protocol.AWS_QUERY, "",
            "2011-06-15", "https://sts.amazonaws.com/doc/2011-06-15/", "sts.amazonaws.com", false);
    private static final Pattern SESSION_NAME = Pattern.compile("[\\w+=,.@-]*");
    private static final Pattern EXTERNAL_ID = Pattern.compile("[\\w+=,.@:/-]*");
    private static final Pattern SERIAL = Pattern.compile("[\\w+=/:,.@-]*");
    private static final int MAX_SESSION_POLICY_CHARS = 2048;
    private static final int MAX_SESSION_TAGS = 50;
    private static final int CHAINED_MAX_SECONDS = 3600;
    /** What session policies, policy ARNs and session tags may add up to, in characters (PackedPolicySize is the share used). */
    private static final int PACKED_BUDGET = 4096;

    private final AccountDirectory directory;
    private final SessionTokens tokens;
    private final MfaVerifier mfa;
    private final Authorizer authorizer;

    public StsService(AccountDirectory directory, SessionTokens tokens, MfaVerifier mfa, Authorizer authorizer) {
        this.directory = directory;
        this.tokens = tokens;
        this.mfa = mfa;
        this.authorizer = authorizer;
    }

    public List<Operation> operations() {
        return List.of(
                Operation.of(OperationSpec.builder("sts", "GetCallerIdentity").noPermissionRequired().resources(ResourceResolver.ALL)
                        .readOnly().maxBodyBytes(64 * 1024).build(), StsService::getCallerIdentity),
                Operation.of(OperationSpec.builder("sts", "AssumeRole").maxBodyBytes(64 * 1024).sensitive("SecretAccessKey", "SessionToken")
                        .resources((ctx, input) -> List.of(input.path("RoleArn").asText("")))
                        .conditionKeys(StsService::assumeRoleKeys).build(), this::assumeRole),
                Operation.of(OperationSpec.builder("sts", "GetSessionToken").noPermissionRequired().resources(ResourceResolver.ALL)
                        .maxBodyBytes(64 * 1024).sensitive("SecretAccessKey", "SessionToken").build(), this::getSessionToken));
    }

    /**
     * {@code sts:GetCallerIdentity}: who the caller is. AWS documents that no permission is needed
     * and that an explicit deny does not stop it; it is still authenticated and audited.
     */
    static JsonNode getCallerIdentity(RequestContext ctx, ObjectNode input) {
        Principal p = ctx.principal();
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("UserId", p.principalId());
        out.put("Account", p.account().value());
        out.put("Arn", p.arn());
        return out;
    }

    /** The condition keys AssumeRole offers the trust policy and the caller's policies. */
    static Map<String, List<String>> assumeRoleKeys(RequestContext ctx, ObjectNode input) {
        Map<String, List<String>> keys = new HashMap<>();
        text(input, "ExternalId").ifPresent(v -> keys.put("sts:ExternalId", List.of(v)));
        text(input, "RoleSessionName").ifPresent(v -> keys.put("sts:RoleSessionName", List.of(v)));
        text(input, "SourceIdentity").ifPresent(v -> keys.put("sts:SourceIdentity", List.of(v)));
        JsonNode tags = input.get("Tags");
        if (tags != null && tags.isArray() && !tags.isEmpty()) {
            List<String> tagKeys = new ArrayList<>();
            for (JsonNode t : tags) {
                String k = t.path("Key").asText("");
                tagKeys.add(k);
                keys.put("aws:RequestTag/" + k, List.of(t.path("Value").asText("")));
            }
            keys.put("aws:TagKeys", tagKeys);
        }
        // Long-term credentials carry no MFA keys; a code sent with this call counts, and is
        // checked by the operation before any credentials are issued.
        if (ctx.principal().session().isEmpty() && text(input, "SerialNumber").isPresent() && text(input, "TokenCode").isPresent()) {
            keys.put("aws:MultiFactorAuthPresent", List.of("true"));
            keys.put("aws:MultiFactorAuthAge", List.of("0"));
        }
        return keys;
    }

    /** {@code sts:AssumeRole}: the trust policy and the caller's own permission were both checked by the authorizer. */
    JsonNode assumeRole(RequestContext ctx, ObjectNode input) {
        Inputs in = new Inputs(input, "ValidationError");
        String roleArn = in.requiredString("RoleArn", 20, 2048, null);
        String sessionName = in.requiredString("RoleSessionName", 2, 64, SESSION_NAME);
        Optional<Integer> requested = in.optionalInt("DurationSeconds", 900, 43200);
        Optional<String> policy = in.optionalString("Policy", 1, MAX_SESSION_POLICY_CHARS, null);
        in.optionalString("ExternalId", 2, 1224, EXTERNAL_ID);
        Optional<String> serial = in.optionalString("SerialNumber", 9, 256, SERIAL);
        Optional<String> code = in.optionalString("TokenCode", 6, 6, null);
        Optional<String> sourceIdentity = in.optionalString("SourceIdentity", 2, 64, SESSION_NAME);
        List<String> policyArns = policyArns(input);
        Map<String, String> sessionTags = sessionTags(input);
        policy.ifPresent(StsService::checkSessionPolicy);
        if (sourceIdentity.isPresent() && sourceIdentity.get().toLowerCase(Locale.ROOT).startsWith("aws:")) {
            throw new AwsException("ValidationError", 400, "SourceIdentity cannot start with the reserved prefix 'aws:'.");
        }
        Principal caller = ctx.principal();
        boolean chained = caller.isRoleSession();
        Optional<String> callerSourceIdentity = caller.session().flatMap(Principal.Session::sourceIdentity);
        if (chained && callerSourceIdentity.isPresent() && sourceIdentity.isPresent() && !callerSourceIdentity.equals(sourceIdentity)) {
            throw new AwsException("AccessDenied", 403, "SourceIdentity cannot be changed once it is set for a role session.");
        }
        IamRole role = directory.roleByArn(roleArn).orElseThrow(() -> new AwsException("AccessDenied", 403,
                "User: " + caller.arn() + " is not authorized to perform: sts:AssumeRole on resource: " + roleArn));
        int duration = requested.orElse(3600);
        if (chained && duration > CHAINED_MAX_SECONDS) {
            throw new AwsException("ValidationError", 400,
                    "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.");
        }
        if (duration > role.maxSessionDuration()) {
            throw new AwsException("ValidationError", 400, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.");
        }
        for (String arn : policyArns) {
            if (!arn.startsWith("arn:aws:iam::aws:policy/") && directory.customerPolicyDocument(role.accountId(), arn).isEmpty()) {
                throw new AwsException("InvalidParameterValue", 400, "The policy " + arn + " does not exist or is not attachable.");
            }
        }
        if (!sessionTags.isEmpty()) {
            requirePermission(ctx, input, "sts:TagSession", roleArn);
        }
        if (sourceIdentity.isPresent()) {
            requirePermission(ctx, input, "sts:SetSourceIdentity", roleArn);
        }
        Optional<Instant> mfaAt = caller.session().flatMap(Principal.Session::mfaAt);
        if (serial.isPresent() != code.isPresent()) {
            throw new AwsException("ValidationError", 400, "SerialNumber and TokenCode must be given together.");
        }
        if (serial.isPresent()) {
            if (!caller.type().equals("IAMUser")) {
                throw new AwsException("AccessDenied", 403, "MultiFactorAuthentication failed, unable to validate MFA code.");
            }
            mfa.verify(caller.account().value(), caller.name(), serial.get(), code.get());
            mfaAt = Optional.of(directory.now());
        }

        int packed = policy.map(String::length).orElse(0) + policyArns.stream().mapToInt(String::length).sum()
                + sessionTags.entrySet().stream().mapToInt(e -> e.getKey().length() + e.getValue().length()).sum();
        if (packed > PACKED_BUDGET) {
            throw new AwsException("PackedPolicyTooLarge", 400, "Packed size of consolidated session policies and session tags exceeds "
                    + packed * 100 / PACKED_BUDGET + "%.");
        }
        Instant now = directory.now().truncatedTo(ChronoUnit.SECONDS);
        // Only the session tags travel in the token; the role's own tags are added when the token
        // is opened (AccessKeyAuthenticator), so tokens stay small and follow the role's tags.
        Map<String, String> tags = new LinkedHashMap<>(sessionTags);
        Principal.Session session = new Principal.Session(role.arn(), sessionName, now, now.plusSeconds(duration), mfaAt,
                policy.map(List::of).orElse(List.of()), policyArns, sourceIdentity.or(() -> callerSourceIdentity), chained);
        String assumedArn = "arn:aws:sts::" + role.accountId() + ":assumed-role/" + role.roleName() + "/" + sessionName;
        String assumedId = role.roleId() + ":" + sessionName;
        SessionTokens.Credentials c = tokens.issue("AssumedRole", new AccountId(role.accountId()), assumedId, assumedArn, role.roleName(),
                tags, session);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.set("Credentials", credentials(c));
        ObjectNode user = out.putObject("AssumedRoleUser");
        user.put("AssumedRoleId", assumedId);
        user.put("Arn", assumedArn);
        out.put("PackedPolicySize", packed * 100 / PACKED_BUDGET);
        session.sourceIdentity().ifPresent(s -> out.put("SourceIdentity", s));
        return out;
    }

    /**
     * {@code sts:GetSessionToken}: credentials for the calling user, MFA-authenticated when a valid
     * code of the user's device comes with the call. Only long-term credentials may call it.
     */
    JsonNode getSessionToken(RequestContext ctx, ObjectNode input) {
        Inputs in = new Inputs(input, "ValidationError");
        int duration = in.optionalInt("DurationSeconds", 900, 129600).orElse(43200);
        Optional<String> serial = in.optionalString("SerialNumber", 9, 256, SERIAL);
        Optional<String> code = in.optionalString("TokenCode", 6, 6, null);
        Principal caller = ctx.principal();
        if (caller.session().isPresent() || !caller.type().equals("IAMUser")) {
            throw new AwsException("AccessDenied", 403, "Cannot call GetSessionToken with session credentials");
        }
        if (serial.isPresent() != code.isPresent()) {
            throw new AwsException("ValidationError", 400, "SerialNumber and TokenCode must be given together.");
        }
        Optional<Instant> mfaAt = Optional.empty();
        if (serial.isPresent()) {
            mfa.verify(caller.account().value(), caller.name(), serial.get(), code.get());
            mfaAt = Optional.of(directory.now());
        }
        Instant now = directory.now().truncatedTo(ChronoUnit.SECONDS);
        Principal.Session session = new Principal.Session(caller.arn(), "", now, now.plus(Duration.ofSeconds(duration)), mfaAt, List.of(),
                List.of(), Optional.empty(), false);
        SessionTokens.Credentials c = tokens.issue("IAMUser", caller.account(), caller.principalId(), caller.arn(), caller.name(),
                caller.tags(), session);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.set("Credentials", credentials(c));
        return out;
    }

    private void requirePermission(RequestContext ctx, ObjectNode input, String action, String roleArn) {
        Map<String, List<String>> keys = new HashMap<>(assumeRoleKeys(ctx, input));
        RequestPipeline.globalConditionKeys(ctx, keys);
        AuthorizationDecision d = authorizer.authorize(new AuthorizationRequest(ctx.principal(), action, List.of(roleArn), keys));
        if (!d.allowed()) {
            throw new AwsException("AccessDenied", 403, "User: " + ctx.principal().arn() + " is not authorized to perform: " + action
                    + " on resource: " + roleArn + " " + d.reason());
        }
    }

    private static ObjectNode credentials(SessionTokens.Credentials c) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("AccessKeyId", c.accessKeyId());
        n.put("SecretAccessKey", c.secretAccessKey().revealUtf8());
        n.put("SessionToken", c.sessionToken());
        n.put("Expiration", c.expiration().toString());
        return n;
    }

    private static void checkSessionPolicy(String document) {
        try {
            PolicyParser.parse(document, PolicyParser.Kind.IDENTITY);
        } catch (MalformedPolicyException e) {
            throw new AwsException("MalformedPolicyDocument", 400, e.getMessage());
        }
    }

    private static List<String> policyArns(ObjectNode input) {
        JsonNode n = input.get("PolicyArns");
        List<String> out = new ArrayList<>();
        if (n == null || (n.isTextual() && n.asText().isEmpty())) {
            return out;
        }
        if (!n.isArray() || n.size() > 10) {
            throw new AwsException("ValidationError", 400, "PolicyArns may hold at most 10 policy ARNs.");
        }
        for (JsonNode p : n) {
            String arn = p.path("arn").asText("");
            if (arn.length() < 20 || arn.length() > 2048 || !arn.startsWith("arn:aws:iam::") || !arn.contains(":policy/")) {
                throw new AwsException("ValidationError", 400, "Each of PolicyArns must be a managed policy ARN of 20 to 2048 characters.");
            }
            out.add(arn);
        }
        return out;
    }

    private static Map<String, String> sessionTags(ObjectNode input) {
        JsonNode n = input.get("Tags");
        Map<String, String> out = new LinkedHashMap<>();
        if (n == null || (n.isTextual() && n.asText().isEmpty())) {
            return out;
        }
        if (!n.isArray() || n.size() > MAX_SESSION_TAGS) {
            throw new AwsException("ValidationError", 400, "1 validation error detected: Value at 'tags' failed to satisfy constraint: "
                    + "Member must have length less than or equal to " + MAX_SESSION_TAGS);
        }
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (JsonNode t : n) {
            String k = t.path("Key").asText("");
            String v = t.path("Value").asText("");
            if (k.isEmpty() || k.length() > 128 || v.length() > 256 || !TAG.matcher(k).matches() || !TAG.matcher(v).matches()) {
                throw new AwsException("ValidationError", 400, "Session tag keys must be 1 to 128 and values 0 to 256 characters "
                        + "of letters, digits, spaces and _.:/=+-@.");
            }
            if (!seen.add(k.toLowerCase(Locale.ROOT))) {
                throw new AwsException("InvalidParameterValue", 400, "Duplicate tag keys found. Please note that Tag keys are case insensitive.");
            }
            out.put(k, v);
        }
        return out;
    }

    private static final Pattern TAG = Pattern.compile("[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*");

    private static Optional<String> text(ObjectNode input, String member) {
        JsonNode n = input.get(member);
        return n == null || !n.isTextual() || n.asText().isEmpty() ? Optional.empty() : Optional.of(n.asText());
    }
}
