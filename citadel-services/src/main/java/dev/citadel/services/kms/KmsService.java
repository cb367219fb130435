package dev.citadel.services.kms;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import dev.citadel.metadata.DuplicateKeyException;
import dev.citadel.metadata.kms.KmsRepository;
import dev.citadel.metadata.kms.KmsRepository.Key;
import dev.citadel.pipeline.Operation;
import dev.citadel.pipeline.Principal;
import dev.citadel.pipeline.RequestContext;
import dev.citadel.pipeline.RequestPipeline;
import dev.citadel.pipeline.authz.AuthorizationDecision;
import dev.citadel.pipeline.authz.AuthorizationRequest;
import dev.citadel.pipeline.authz.Authorizer;
import dev.citadel.pipeline.spec.ConditionKeyResolver;
import dev.citadel.pipeline.spec.OperationSpec;
import dev.citadel.pipeline.spec.ResourceResolver;
import dev.citadel.pipeline.spec.ServiceDefinition;
import dev.citadel.policy.MalformedPolicyException;
import dev.citadel.policy.Policy;
import dev.citadel.policy.PolicyEvaluator;
import dev.citadel.policy.PolicyParser;
import dev.citadel.services.Inputs;
import dev.citadel.services.iam.PolicyAuthorizer;
import dev.citadel.wire.Protocol;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * AWS Key Management Service (awsJson1_1, target prefix {@code TrentService}): symmetric
 * (SYMMETRIC_DEFAULT, AES-256-GCM) and HMAC_256 keys with key policies, aliases, grants,
 * rotation, scheduled deletion and tags; Encrypt, Decrypt (with or without KeyId), ReEncrypt,
 * GenerateDataKey(WithoutPlaintext), GenerateRandom, GenerateMac and VerifyMac. Every request
 * on a key needs its key policy to allow it (the default policy delegates to the account's IAM
 * policies), or a grant; this class registers both with the authorizer.
 */
public final class KmsService implements PolicyAuthorizer.ResourcePolicies {
    public static final ServiceDefinition DEFINITION = new ServiceDefinition("kms", "kms", "kms", Protocol.AWS_JSON_1_1, "TrentService",
            "2014-11-01", "", "kms.amazonaws.com", false);
    private static final String INVALID = "ValidationException";
    private static final Pattern ALIAS = Pattern.compile("alias/[a-zA-Z0-9/_-]+");
    private static final Pattern UUID_ID = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    private static final int MAX_PLAINTEXT = 4096;
    private static final long POLICY_TTL_NANOS = 5_000_000_000L;
    private static final Set<String> GRANT_OPERATIONS = Set.of("Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
            "ReEncryptFrom", "ReEncryptTo", "CreateGrant", "RetireGrant", "DescribeKey", "GenerateMac", "VerifyMac", "GenerateDataKeyPair",
            "GenerateDataKeyPairWithoutPlaintext", "Sign", "Verify", "GetPublicKey");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> RSA_SIGNING = List.of("RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512",
            "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512");
    /** The signing algorithms of each asymmetric key spec, as KMS lists them. */
    private static final Map<String, List<String>> SIGNING_ALGORITHMS = Map.of("RSA_2048", RSA_SIGNING, "RSA_3072", RSA_SIGNING,
            "RSA_4096", RSA_SIGNING, "ECC_NIST_P256", List.of("ECDSA_SHA_256"), "ECC_NIST_P384", List.of("ECDSA_SHA_384"));
    private static final Set<String> KEY_PAIR_SPECS = Set.of("RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384");

    private record CachedPolicy(Optional<PolicyEvaluator.Source> policy, long expiresAt) {
    }

    private final KmsKeys keys;
    private final Authorizer authorizer;
    private final ConcurrentHashMap<String, CachedPolicy> policies = new ConcurrentHashMap<>();

    public KmsService(KmsKeys keys, Authorizer authorizer) {
        this.keys = keys;
        this.authorizer = authorizer;
    }

    public List<Operation> operations() {
        return List.of(
                op("CreateKey", ResourceResolver.ALL, this::createKey),
                op("DescribeKey", key("KeyId"), this::describeKey),
                op("ListKeys", ResourceResolver.ALL, this::listKeys),
                op("EnableKey", key("KeyId"), (c, i) -> setEnabled(c, i, true)),
                op("DisableKey", key("KeyId"), (c, i) -> setEnabled(c, i, false)),
                Operation.of(spec("Encrypt", key("KeyId")).conditionKeys(contextKeys("EncryptionContext")).sensitive("Plaintext").build(),
                        this::encrypt),
                Operation.of(spec("Decrypt", decryptKey()).conditionKeys(contextKeys("EncryptionContext")).sensitive("Plaintext").build(),
                        this::decrypt),
                Operation.of(spec("ReEncrypt", key("DestinationKeyId")).action("kms:ReEncryptTo")
                        .conditionKeys(contextKeys("DestinationEncryptionContext")).build(), this::reEncrypt),
                Operation.of(spec("GenerateDataKey", key("KeyId")).conditionKeys(contextKeys("EncryptionContext")).sensitive("Plaintext").build(),
                        (c, i) -> generateDataKey(c, i, true)),
                Operation.of(spec("GenerateDataKeyWithoutPlaintext", key("KeyId")).conditionKeys(contextKeys("EncryptionContext")).build(),
                        (c, i) -> generateDataKey(c, i, false)),
                Operation.of(spec("GenerateRandom", ResourceResolver.ALL).sensitive("Plaintext").build(), this::generateRandom),
                op("GenerateMac", key("KeyId"), this::generateMac),
                op("Sign", key("KeyId"), this::sign),
                op("Verify", key("KeyId"), this::verify),
                op("GetPublicKey", key("KeyId"), this::getPublicKey),
                Operation.of(spec("GenerateDataKeyPair", key("KeyId")).conditionKeys(contextKeys("EncryptionContext"))
                        .sensitive("PrivateKeyPlaintext").build(), (c, i) -> generateDataKeyPair(c, i, true)),
                Operation.of(spec("GenerateDataKeyPairWithoutPlaintext", key("KeyId")).conditionKeys(contextKeys("EncryptionContext")).build(),
                        (c, i) -> generateDataKeyPair(c, i, false)),
                op("VerifyMac", key("KeyId"), this::verifyMac),
                op("CreateAlias", key("TargetKeyId"), this::createAlias),
                op("UpdateAlias", key("TargetKeyId"), this::updateAlias),
                op("DeleteAlias", aliasKey(), this::deleteAlias),
                op("ListAliases", ResourceResolver.ALL, this::listAliases),
                op("GetKeyPolicy", key("KeyId"), this::getKeyPolicy),
                Operation.of(spec("PutKeyPolicy", key("KeyId")).maxBodyBytes(64 * 1024).build(), this::putKeyPolicy),
                op("ListKeyPolicies", key("KeyId"), this::listKeyPolicies),
                op("EnableKeyRotation", key("KeyId"), (c, i) -> setRotation(c, i, true)),
                op("DisableKeyRotation", key("KeyId"), (c, i) -> setRotation(c, i, false)),
                op("GetKeyRotationStatus", key("KeyId"), this::getKeyRotationStatus),
                op("RotateKeyOnDemand", key("KeyId"), this::rotateKeyOnDemand),
                op("ScheduleKeyDeletion", key("KeyId"), this::scheduleKeyDeletion),
                op("CancelKeyDeletion", key("KeyId"), this::cancelKeyDeletion),
                op("TagResource", key("KeyId"), this::tagResource),
                op("UntagResource", key("KeyId"), this::untagResource),
                op("ListResourceTags", key("KeyId"), this::listResourceTags),
                Operation.of(spec("CreateGrant", key("KeyId")).conditionKeys(grantKeys()).build(), this::createGrant),
                op("ListGrants", key("KeyId"), this::listGrants),
                op("RetireGrant", key("KeyId"), this::retireGrant),
                op("RevokeGrant", key("KeyId"), this::revokeGrant));
    }

    private static OperationSpec.Builder spec(String name, ResourceResolver resources) {
        return OperationSpec.builder("kms", name).maxBodyBytes(64 * 1024).resources(resources);
    }

    private static Operation op(String name, ResourceResolver resources, Operation.Handler handler) {
        return Operation.of(spec(name, resources).build(), handler);
    }

    // ---- resolving keys ----

    /** A key's ARN from a KeyId member (key id, key ARN, alias name or alias ARN); the given value when it names no key. */
    private ResourceResolver key(String member) {
        return (ctx, input) -> List.of(resolveArn(ctx, input.path(member).asText("")));
    }

    private ResourceResolver aliasKey() {
        return (ctx, input) -> List.of(resolveArn(ctx, input.path("AliasName").asText("")));
    }

    private String resolveArn(RequestContext ctx, String keyId) {
        return resolve(ctx, keyId).map(Key::arn).orElseGet(() -> keyId.startsWith("arn:") ? keyId
                : "arn:aws:kms:" + ctx.region() + ":" + ctx.principal().account() + ":key/" + keyId);
    }

    /** The key a KeyId names, in the caller's account unless an ARN names another. */
    private Optional<Key> resolve(RequestContext ctx, String keyId) {
        if (keyId.isEmpty() || keyId.length() > 2048) {
            return Optional.empty();
        }
        String account = ctx.principal().account().value();
        String name = keyId;
        if (keyId.startsWith("arn:aws:kms:")) {
            String[] parts = keyId.split(":", 6);
            if (parts.length < 6) {
                return Optional.empty();
            }
            account = parts[4];
            name = parts[5];
        }
        if (name.startsWith("alias/")) {
            String owner = account;
            String alias = name;
            return keys.aliasTarget(owner, alias).flatMap(keys::key);
        }
        if (name.startsWith("key/")) {
            name = name.substring(4);
        }
        String owner = account;
        return keys.key(name).filter(k -> k.accountId().equals(owner));
    }

    private ResourceResolver decryptKey() {
        return (ctx, input) -> {
            if (input.hasNonNull("KeyId")) {
                return List.of(resolveArn(ctx, input.path("KeyId").asText("")));
            }
            Optional<CiphertextBlob> blob = blob(input.path("CiphertextBlob").asText(""));
            return List.of(blob.flatMap(b -> keys.key(b.keyId())).map(Key::arn).orElse("*"));
        };
    }

    private Key requireKey(RequestContext ctx, ObjectNode input, String member) {
        String keyId = new Inputs(input, INVALID).requiredString(member, 1, 2048, null);
        return resolve(ctx, keyId).orElseThrow(() -> keyId.contains("alias/")
                ? new AwsException("NotFoundException", 400, "Alias " + aliasArn(ctx, keyId) + " is not found.")
                : new AwsException("NotFoundException", 400, "Key '" + resolveArn(ctx, keyId) + "' does not exist"));
    }

    private static String aliasArn(RequestContext ctx, String alias) {
        return alias.startsWith("arn:") ? alias : "arn:aws:kms:" + ctx.region() + ":" + ctx.principal().account() + ":" + alias;
    }

    private static void requireUsable(Key k) {
        switch (k.state()) {
            case "Enabled" -> {
            }
            case "Disabled" -> throw new AwsException("DisabledException", 400, k.arn() + " is disabled.");
            default -> throw new AwsException("KMSInvalidStateException", 400, k.arn() + " is pending deletion.");
        }
    }

    private static void requireUsage(Key k, String usage) {
        if (!k.keyUsage().equals(usage)) {
            throw new AwsException("InvalidKeyUsageException", 400, "The key usage of " + k.arn() + " is " + k.keyUsage()
                    + "; this operation needs " + usage + ".");
        }
    }

    // ---- the authorizer's view: key policies and grants ----

    @Override
    public Optional<PolicyEvaluator.Source> requiredPolicy(String action, String resource) {
        if (!action.regionMatches(true, 0, "kms:", 0, 4) || !resource.startsWith("arn:aws:kms:") || !resource.contains(":key/")) {
            return Optional.empty();
        }
        long now = System.nanoTime();
        CachedPolicy c = policies.get(resource);
        if (c == null || c.expiresAt - now <= 0) {
            String keyId = resource.substring(resource.indexOf(":key/") + 5);
            Optional<PolicyEvaluator.Source> policy = keys.key(keyId).filter(k -> k.arn().equals(resource))
                    .map(k -> new PolicyEvaluator.Source("the key policy of " + k.arn(), parsePolicy(k.policy())));
            c = new CachedPolicy(policy, now + POLICY_TTL_NANOS);
            if (policies.size() > 10_000) {
                policies.clear();
            }
            policies.put(resource, c);
        }
        return c.policy;
    }

    @Override
    public boolean grantAllows(Principal principal, String action, String resource, Map<String, List<String>> context) {
        if (!action.regionMatches(true, 0, "kms:", 0, 4) || !resource.contains(":key/")) {
            return false;
        }
        String operation = action.substring(4);
        String keyId = resource.substring(resource.indexOf(":key/") + 5);
        Map<String, String> requestContext = new HashMap<>();
        context.forEach((k, v) -> {
            if (k.regionMatches(true, 0, "kms:EncryptionContext:", 0, 22) && !v.isEmpty()) {
                requestContext.put(k.substring(22), v.getFirst());
            }
        });
        String roleArn = principal.session().filter(s -> principal.isRoleSession()).map(Principal.Session::issuer).orElse("");
        for (KmsRepository.Grant g : keys.store().read(h -> new KmsRepository(h).grants(keyId))) {
            boolean grantee = g.granteePrincipal().equals(principal.arn()) || g.granteePrincipal().equals(roleArn);
            boolean operationOk = g.operations().stream().anyMatch(o -> o.equalsIgnoreCase(operation)
                    || (operation.equalsIgnoreCase("GenerateDataKeyWithoutPlaintext") && o.equals("GenerateDataKey")));
            if (grantee && operationOk && constraintsHold(g.constraints(), requestContext)) {
                return true;
            }
        }
        return false;
    }

    private static boolean constraintsHold(String constraints, Map<String, String> requestContext) {
        try {
            JsonNode c = JSON.readTree(constraints);
            JsonNode equals = c.get("EncryptionContextEquals");
            if (equals != null) {
                Map<String, String> want = new HashMap<>();
                equals.properties().forEach(e -> want.put(e.getKey(), e.getValue().asText()));
                if (!want.equals(requestContext)) {
                    return false;
                }
            }
            JsonNode subset = c.get("EncryptionContextSubset");
            if (subset != null) {
                for (var e : subset.properties()) {
                    if (!e.getValue().asText().equals(requestContext.get(e.getKey()))) {
                        return false;
                    }
                }
            }
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private static Policy parsePolicy(String document) {
        try {
            return PolicyParser.parse(document, PolicyParser.Kind.RESOURCE);
        } catch (MalformedPolicyException e) {
            return PolicyParser.parse("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"*\","
                    + "\"Resource\":\"*\"}]}", PolicyParser.Kind.RESOURCE);
        }
    }

    private void policyChanged() {
        policies.clear();
    }

    // ---- condition keys ----

    private static ConditionKeyResolver contextKeys(String member) {
        return (ctx, input) -> {
            Map<String, List<String>> out = new HashMap<>();
            JsonNode ec = input.get(member);
            List<String> names = new ArrayList<>();
            if (ec != null && ec.isObject()) {
                ec.properties().forEach(e -> {
                    out.put("kms:EncryptionContext:" + e.getKey(), List.of(e.getValue().asText()));
                    names.add(e.getKey());
                });
            }
            out.put("kms:EncryptionContextKeys", names);
            out.put("kms:CallerAccount", List.of(ctx.principal().account().value()));
            return out;
        };
    }

    private static ConditionKeyResolver grantKeys() {
        return (ctx, input) -> {
            Map<String, List<String>> out = new HashMap<>();
            List<String> ops = new ArrayList<>();
            input.path("Operations").forEach(o -> ops.add(o.asText()));
            out.put("kms:GrantOperations", ops);
            out.put("kms:GranteePrincipal", List.of(input.path("GranteePrincipal").asText("")));
            out.put("kms:CallerAccount", List.of(ctx.principal().account().value()));
            return out;
        };
    }

    // ---- keys ----

    JsonNode createKey(RequestContext ctx, ObjectNode input) {
        Inputs in = new Inputs(input, INVALID);
        String description = in.optionalString("Description", 0, 8192, null).orElse("");
        String spec = in.optionalString("KeySpec", 1, 32, null).or(() -> in.optionalString("CustomerMasterKeySpec", 1, 32, null))
                .orElse("SYMMETRIC_DEFAULT");
        String usage = in.optionalString("KeyUsage", 1, 32, null).orElse(spec.startsWith("HMAC") ? "GENERATE_VERIFY_MAC" : "ENCRYPT_DECRYPT");
        boolean supported = (spec.equals("SYMMETRIC_DEFAULT") && usage.equals("ENCRYPT_DECRYPT"))
                || (spec.equals("HMAC_256") && usage.equals("GENERATE_VERIFY_MAC"))
                || (SIGNING_ALGORITHMS.containsKey(spec) && usage.equals("SIGN_VERIFY"));
        if (!supported) {
            throw new AwsException(INVALID, 400, "KeySpec " + spec + " with KeyUsage " + usage + " is not supported; Citadel creates "
                    + "SYMMETRIC_DEFAULT keys for ENCRYPT_DECRYPT, HMAC_256 keys for GENERATE_VERIFY_MAC, and RSA_2048/3072/4096 and "
                    + "ECC_NIST_P256/P384 keys for SIGN_VERIFY.");
        }
        String origin = in.optionalString("Origin", 1, 32, null).orElse("AWS_KMS");
        if (!origin.equals("AWS_KMS")) {
            throw new AwsException("UnsupportedOperationException", 400, "Only keys with Origin AWS_KMS can be created.");
        }
        String account = ctx.principal().account().value();
        String policy = in.optionalString("Policy", 1, 32768, null).orElse(defaultPolicy(account));
        checkPolicy(policy);
        Map<String, String> tags = tags(input);
        String keyId = UUID.randomUUID().toString();
        Instant now = keys.now();
        Key key = new Key(keyId, account, "arn:aws:kms:" + ctx.region() + ":" + account + ":key/" + keyId, description, usage, spec,
                "Enabled", policy, false, 365, 1, Optional.empty(), now);
        keys.change(h -> {
            KmsRepository repo = new KmsRepository(h);
            repo.insertKey(key);
            repo.addVersion(keyId, 1, usage.equals("SIGN_VERIFY") ? keys.newSealedKeyPair(keyId, 1, spec) : keys.newSealedMaterial(keyId, 1, 32),
                    now);
            repo.tag(keyId, tags);
        });
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.set("KeyMetadata", metadata(key));
        return out;
    }

    static String defaultPolicy(String account) {
        return "{\"Version\":\"2012-10-17\",\"Id\":\"key-default-1\",\"Statement\":[{\"Sid\":\"Enable IAM User Permissions\","
                + "\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::" + account + ":root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}";
    }

    private static void checkPolicy(String policy) {
        try {
            PolicyParser.parse(policy, PolicyParser.Kind.RESOURCE);
        } catch (MalformedPolicyException e) {
            throw new AwsException("MalformedPolicyDocumentException", 400, e.getMessage());
        }
    }

    private static ObjectNode metadata(Key k) {
        ObjectNode m = JsonNodeFactory.instance.objectNode();
        m.put("AWSAccountId", k.accountId());
        m.put("KeyId", k.keyId());
        m.put("Arn", k.arn());
        m.put("CreationDate", k.createdAt().toEpochMilli() / 1000.0);
        m.put("Enabled", k.state().equals("Enabled"));
        m.put("Description", k.description());
        m.put("KeyUsage", k.keyUsage());
        m.put("KeyState", k.state());
        k.deletionDate().ifPresent(d -> m.put("DeletionDate", d.toEpochMilli() / 1000.0));
        m.put("Origin", "AWS_KMS");
        m.put("KeyManager", "CUSTOMER");
        m.put("CustomerMasterKeySpec", k.keySpec());
        m.put("KeySpec", k.keySpec());
        if (k.keyUsage().equals("ENCRYPT_DECRYPT")) {
            m.putArray("EncryptionAlgorithms").add("SYMMETRIC_DEFAULT");
        } else if (k.keyUsage().equals("SIGN_VERIFY")) {
            ArrayNode algorithms = m.putArray("SigningAlgorithms");
            SIGNING_ALGORITHMS.get(k.keySpec()).forEach(algorithms::add);
        } else {
            m.putArray("MacAlgorithms").add("HMAC_SHA_256");
        }
        m.put("MultiRegion", false);
        return m;
    }

    JsonNode describeKey(RequestContext ctx, ObjectNode input) {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.set("KeyMetadata", metadata(requireKey(ctx, input, "KeyId")));
        return out;
    }

    JsonNode listKeys(RequestContext ctx, ObjectNode input) {
        Inputs in = new Inputs(input, INVALID);
        int limit = in.optionalInt("Limit", 1, 1000).orElse(100);
        String marker = in.optionalString("Marker", 1, 320, UUID_ID).orElse("");
        List<Key> page = keys.store().read(h -> new KmsRepository(h).keys(ctx.principal().account().value(), marker, limit + 1));
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode list = out.putArray("Keys");
        page.stream().limit(limit).forEach(k -> list.addObject().put("KeyId", k.keyId()).put("KeyArn", k.arn()));
        out.put("Truncated", page.size() > limit);
        if (page.size() > limit) {
            out.put("NextMarker", page.get(limit - 1).keyId());
        }
        return out;
    }

    JsonNode setEnabled(RequestContext ctx, ObjectNode input, boolean enabled) {
        Key k = requireKey(ctx, input, "KeyId");
        if (k.state().equals("PendingDeletion")) {
            throw new AwsException("KMSInvalidStateException", 400, k.arn() + " is pending deletion.");
        }
        keys.change(h -> new KmsRepository(h).setState(k.keyId(), enabled ? "Enabled" : "Disabled", Optional.empty()));
        return JsonNodeFactory.instance.objectNode();
    }

    // ---- cryptography ----

    private static Map<String, String> encryptionContext(ObjectNode input, String member) {
        JsonNode ec = input.get(member);
        Map<String, String> out = new LinkedHashMap<>();
        if (ec == null || ec.isNull()) {
            return out;
        }
        if (!ec.isObject()) {
            throw new AwsException(INVALID, 400, member + " must be a map of strings.");
        }
        int size = 0;
        for (var e : ec.properties()) {
            if (!e.getValue().isTextual() || e.getKey().isEmpty()) {
                throw new AwsException(INVALID, 400, member + " must be a map of non-empty keys to strings.");
            }
            size += e.getKey().length() + e.getValue().textValue().length();
            out.put(e.getKey(), e.getValue().textValue());
        }
        if (size > 8192) {
            throw new AwsException(INVALID, 400, member + " may hold at most 8192 characters.");
        }
        return out;
    }

    private static byte[] blobInput(ObjectNode input, String member, int max) {
        String b64 = new Inputs(input, INVALID).requiredString(member, 1, max * 2, null);
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(b64);
        } catch (IllegalArgumentException e) {
            throw new AwsException("SerializationException", 400, member + " is not valid Base64.");
        }
        if (bytes.length < 1 || bytes.length > max) {
            throw new AwsException(INVALID, 400, "1 validation error detected: Value at '" + Character.toLowerCase(member.charAt(0))
                    + member.substring(1) + "' failed to satisfy constraint: Member must have length between 1 and " + max);
        }
        return bytes;
    }

    private static Optional<CiphertextBlob> blob(String b64) {
        try {
            return CiphertextBlob.parse(Base64.getDecoder().decode(b64));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private byte[] seal(Key k, byte[] plaintext, Map<String, String> context) {
        return keys.encrypt(k, plaintext, context);
    }

    static AwsException invalidCiphertext() {
        return new AwsException("InvalidCiphertextException", 400, "The ciphertext is invalid, or was made under another key or encryption context.");
    }

    /** Opens a blob made by {@link #seal}; the key is the blob's. */
    private byte[] open(CiphertextBlob blob, Key k, Map<String, String> context) {
        return keys.decrypt(blob, k, context).orElseThrow(KmsService::invalidCiphertext);
    }

    private static void requireSymmetricAlgorithm(ObjectNode input, String member) {
        String algorithm = input.path(member).asText("SYMMETRIC_DEFAULT");
        if (!algorithm.equals("SYMMETRIC_DEFAULT")) {
            throw new AwsException("InvalidKeyUsageException", 400, "The encryption algorithm " + algorithm + " is not valid for a symmetric key.");
        }
    }

    JsonNode encrypt(RequestContext ctx, ObjectNode input) {
        byte[] plaintext = blobInput(input, "Plaintext", MAX_PLAINTEXT);
        Map<String, String> context = encryptionContext(input, "EncryptionContext");
        requireSymmetricAlgorithm(input, "EncryptionAlgorithm");
        Key k = requireKey(ctx, input, "KeyId");
        requireUsable(k);
        requireUsage(k, "ENCRYPT_DECRYPT");
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("CiphertextBlob", Base64.getEncoder().encodeToString(seal(k, plaintext, context)));
        out.put("KeyId", k.arn());
        out.put("EncryptionAlgorithm", "SYMMETRIC_DEFAULT");
        return out;
    }

    /** The blob and its key; a KeyId given must name that key. */
    private record Opened(Key key, byte[] plaintext) {
    }

    private Opened decryptBlob(RequestContext ctx, ObjectNode input, String blobMember, String keyMember, String contextMember) {
        byte[] raw = blobInput(input, blobMember, CiphertextBlob.MAX_BLOB);
        Map<String, String> context = encryptionContext(input, contextMember);
        CiphertextBlob blob = CiphertextBlob.parse(raw).orElseThrow(KmsService::invalidCiphertext);
        Key k = keys.key(blob.keyId()).orElseThrow(KmsService::invalidCiphertext);
        if (input.hasNonNull(keyMember)) {
            Key named = requireKey(ctx, input, keyMember);
            if (!named.keyId().equals(k.keyId())) {
                throw new AwsException("IncorrectKeyException", 400,
                        "The key ID in the request does not identify a CMK that can perform this operation.");
            }
        }
        requireUsable(k);
        requireUsage(k, "ENCRYPT_DECRYPT");
        return new Opened(k, open(blob, k, context));
    }

    JsonNode decrypt(RequestContext ctx, ObjectNode input) {
        requireSymmetricAlgorithm(input, "EncryptionAlgorithm");
        Opened o = decryptBlob(ctx, input, "CiphertextBlob", "KeyId", "EncryptionContext");
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("KeyId", o.key().arn());
        out.put("Plaintext", Base64.getEncoder().encodeToString(o.plaintext()));
        out.put("EncryptionAlgorithm", "SYMMETRIC_DEFAULT");
        return out;
    }

    JsonNode reEncrypt(RequestContext ctx, ObjectNode input) {
        Map<String, String> destinationContext = encryptionContext(input, "DestinationEncryptionContext");
        Key destination = requireKey(ctx, input, "DestinationKeyId");
        byte[] raw = blobInput(input, "CiphertextBlob", CiphertextBlob.MAX_BLOB);
        CiphertextBlob blob = CiphertextBlob.parse(raw).orElseThrow(KmsService::invalidCiphertext);
        String sourceArn = keys.key(blob.keyId()).map(Key::arn).orElseThrow(KmsService::invalidCiphertext);
        Map<String, List<String>> keysForSource = new HashMap<>(contextKeys("SourceEncryptionContext").resolve(ctx, input));
        RequestPipeline.globalConditionKeys(ctx, keysForSource);
        AuthorizationDecision d = authorizer.authorize(new AuthorizationRequest(ctx.principal(), "kms:ReEncryptFrom", List.of(sourceArn),
                keysForSource));
        if (!d.allowed()) {
            throw new AwsException("AccessDeniedException", 400, "User: " + ctx.principal().arn() + " is not authorized to perform: "
                    + "kms:ReEncryptFrom on resource: " + sourceArn + " " + d.reason());
        }
        Opened source = decryptBlob(ctx, input, "CiphertextBlob", "SourceKeyId", "SourceEncryptionContext");
        requireUsable(destination);
        requireUsage(destination, "ENCRYPT_DECRYPT");
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("CiphertextBlob", Base64.getEncoder().encodeToString(seal(destination, source.plaintext(), destinationContext)));
        out.put("SourceKeyId", source.key().arn());
        out.put("KeyId", destination.arn());
        out.put("SourceEncryptionAlgorithm", "SYMMETRIC_DEFAULT");
        out.put("DestinationEncryptionAlgorithm", "SYMMETRIC_DEFAULT");
        return out;
    }

    JsonNode generateDataKey(RequestContext ctx, ObjectNode input, boolean withPlaintext) {
        Inputs in = new Inputs(input, INVALID);
        Optional<String> spec = in.optionalString("KeySpec", 6, 7, Pattern.compile("AES_256|AES_128"));
        Optional<Integer> bytes = in.optionalInt("NumberOfBytes", 1, 1024);
        if (spec.isPresent() == bytes.isPresent()) {
            throw new AwsException(INVALID, 400, "Please specify either number of bytes or key spec.");
        }
        Map<String, String> context = encryptionContext(input, "EncryptionContext");
        Key k = requireKey(ctx, input, "KeyId");
        requireUsable(k);
        requireUsage(k, "ENCRYPT_DECRYPT");
        byte[] dataKey = keys.randomBytes(bytes.orElse(spec.map(s -> s.equals("AES_128") ? 16 : 32).orElse(32)));
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("CiphertextBlob", Base64.getEncoder().encodeToString(seal(k, dataKey, context)));
        if (withPlaintext) {
            out.put("Plaintext", Base64.getEncoder().encodeToString(dataKey));
        }
        java.util.Arrays.fill(dataKey, (byte) 0);
        out.put("KeyId", k.arn());
        return out;
    }

    JsonNode generateRandom(RequestContext ctx, ObjectNode input) {
        int n = new Inputs(input, INVALID).optionalInt("NumberOfBytes", 1, 1024).orElseThrow(() -> new AwsException(INVALID, 400,
                "1 validation error detected: Value null at 'numberOfBytes' failed to satisfy constraint: Member must not be null"));
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("Plaintext", Base64.getEncoder().encodeToString(keys.randomBytes(n)));
        return out;
    }

    private byte[] mac(Key k, byte[] message) {
        int version = keys.currentVersion(k);
        SecretKeySpec material = keys.material(k.keyId(), version, "HmacSHA256").orElseThrow();
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(material);
            return mac.doFinal(message);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private Key macKey(RequestContext ctx, ObjectNode input) {
        String algorithm = new Inputs(input, INVALID).requiredString("MacAlgorithm", 1, 32, null);
        Key k = requireKey(ctx, input, "KeyId");
        requireUsable(k);
        requireUsage(k, "GENERATE_VERIFY_MAC");
        if (!algorithm.equals("HMAC_SHA_256")) {
            throw new AwsException("InvalidKeyUsageException", 400, "The MAC algorithm " + algorithm + " is not valid for " + k.arn() + ".");
        }
        return k;
    }

    JsonNode generateMac(RequestContext ctx, ObjectNode input) {
        byte[] message = blobInput(input, "Message", 4096);
        Key k = macKey(ctx, input);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("Mac", Base64.getEncoder().encodeToString(mac(k, message)));
        out.put("MacAlgorithm", "HMAC_SHA_256");
        out.put("KeyId", k.arn());
        return out;
    }

    JsonNode verifyMac(RequestContext ctx, ObjectNode input) {
        byte[] message = blobInput(input, "Message", 4096);
        byte[] given = blobInput(input, "Mac", 6144);
        Key k = macKey(ctx, input);
        // Every version is tried, so rotation never invalidates an earlier MAC.
        boolean valid = false;
        for (KmsRepository.Version v : keys.store().read(h -> new KmsRepository(h).versions(k.keyId()))) {
            SecretKeySpec material = keys.material(k.keyId(), v.version(), "HmacSHA256").orElseThrow();
            try {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(material);
                valid |= MessageDigest.isEqual(mac.doFinal(message), given);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }
        if (!valid) {
            throw new AwsException("KMSInvalidMacException", 400, "The MAC is not valid for the given message and key.");
        }
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("KeyId", k.arn());
        out.put("MacValid", true);
        out.put("MacAlgorithm", "HMAC_SHA_256");
        return out;
    }

    // ---- asymmetric keys ----

    /** The JCA signature for a KMS signing algorithm; with a digest message, the raw form that signs a given hash. */
    private static java.security.Signature signature(String algorithm, boolean digest) throws GeneralSecurityException {
        String hash = algorithm.substring(algorithm.lastIndexOf('_') + 1);
        if (algorithm.startsWith("ECDSA")) {
            return java.security.Signature.getInstance(digest ? "NONEwithECDSA" : "SHA" + hash + "withECDSA");
        }
        if (algorithm.startsWith("RSASSA_PKCS1")) {
            return java.security.Signature.getInstance(digest ? "NONEwithRSA" : "SHA" + hash + "withRSA");
        }
        java.security.Signature pss = java.security.Signature.getInstance("RSASSA-PSS");
        int bytes = Integer.parseInt(hash) / 8;
        pss.setParameter(new java.security.spec.PSSParameterSpec("SHA-" + hash, "MGF1", new java.security.spec.MGF1ParameterSpec("SHA-" + hash),
                bytes, 1));
        return pss;
    }

    /** For RSA PKCS#1 v1.5 over a digest: the DER DigestInfo prefix that NONEwithRSA must be given (RFC 8017, section 9.2). */
    private static byte[] digestInfo(String hash, byte[] digest) {
        String prefix = switch (hash) {
            case "256" -> "3031300d060960864801650304020105000420";
            case "384" -> "3041300d060960864801650304020205000430";
            default -> "3051300d060960864801650304020305000440";
        };
        byte[] p = dev.citadel.core.Hex.decode(prefix);
        byte[] out = java.util.Arrays.copyOf(p, p.length + digest.length);
        System.arraycopy(digest, 0, out, p.length, digest.length);
        return out;
    }

    private record SigningInput(Key key, String algorithm, boolean digest, byte[] message) {
    }

    private SigningInput signingInput(RequestContext ctx, ObjectNode input) {
        Inputs in = new Inputs(input, INVALID);
        byte[] message = blobInput(input, "Message", 4096);
        String algorithm = in.requiredString("SigningAlgorithm", 1, 64, null);
        String type = in.optionalString("MessageType", 3, 6, Pattern.compile("RAW|DIGEST")).orElse("RAW");
        Key k = requireKey(ctx, input, "KeyId");
        requireUsable(k);
        requireUsage(k, "SIGN_VERIFY");
        if (!SIGNING_ALGORITHMS.get(k.keySpec()).contains(algorithm)) {
            throw new AwsException("InvalidKeyUsageException", 400, "The signing algorithm " + algorithm + " is not valid for " + k.arn() + ".");
        }
        boolean digest = type.equals("DIGEST");
        if (digest) {
            int expected = Integer.parseInt(algorithm.substring(algorithm.lastIndexOf('_') + 1)) / 8;
            if (message.length != expected) {
                throw new AwsException(INVALID, 400, "Digest is invalid length for algorithm " + algorithm + ".");
            }
            if (algorithm.startsWith("RSASSA_PSS")) {
                throw new AwsException(INVALID, 400, "Citadel signs DIGEST messages with ECDSA and RSASSA_PKCS1_V1_5 only; send the RAW message.");
            }
            if (algorithm.startsWith("RSASSA_PKCS1")) {
                message = digestInfo(algorithm.substring(algorithm.lastIndexOf('_') + 1), message);
            }
        }
        return new SigningInput(k, algorithm, digest, message);
    }

    JsonNode sign(RequestContext ctx, ObjectNode input) {
        SigningInput s = signingInput(ctx, input);
        java.security.KeyPair pair = keys.keyPair(s.key().keyId(), s.key().currentVersion(), s.key().keySpec()).orElseThrow();
        try {
            java.security.Signature signer = signature(s.algorithm(), s.digest());
            signer.initSign(pair.getPrivate());
            signer.update(s.message());
            ObjectNode out = JsonNodeFactory.instance.objectNode();
            out.put("KeyId", s.key().arn());
            out.put("Signature", Base64.getEncoder().encodeToString(signer.sign()));
            out.put("SigningAlgorithm", s.algorithm());
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("signing failed", e);
        }
    }

    JsonNode verify(RequestContext ctx, ObjectNode input) {
        byte[] given = blobInput(input, "Signature", 6144);
        SigningInput s = signingInput(ctx, input);
        java.security.KeyPair pair = keys.keyPair(s.key().keyId(), s.key().currentVersion(), s.key().keySpec()).orElseThrow();
        boolean valid;
        try {
            java.security.Signature verifier = signature(s.algorithm(), s.digest());
            verifier.initVerify(pair.getPublic());
            verifier.update(s.message());
            valid = verifier.verify(given);
        } catch (java.security.SignatureException e) {
            valid = false;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("verification failed", e);
        }
        if (!valid) {
            throw new AwsException("KMSInvalidSignatureException", 400, "The signature is not valid for the given message and key.");
        }
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("KeyId", s.key().arn());
        out.put("SignatureValid", true);
        out.put("SigningAlgorithm", s.algorithm());
        return out;
    }

    JsonNode getPublicKey(RequestContext ctx, ObjectNode input) {
        Key k = requireKey(ctx, input, "KeyId");
        requireUsage(k, "SIGN_VERIFY");
        if (k.state().equals("PendingDeletion")) {
            throw new AwsException("KMSInvalidStateException", 400, k.arn() + " is pending deletion.");
        }
        java.security.KeyPair pair = keys.keyPair(k.keyId(), k.currentVersion(), k.keySpec()).orElseThrow();
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("KeyId", k.arn());
        out.put("PublicKey", Base64.getEncoder().encodeToString(pair.getPublic().getEncoded()));
        out.put("CustomerMasterKeySpec", k.keySpec());
        out.put("KeySpec", k.keySpec());
        out.put("KeyUsage", k.keyUsage());
        ArrayNode algorithms = out.putArray("SigningAlgorithms");
        SIGNING_ALGORITHMS.get(k.keySpec()).forEach(algorithms::add);
        return out;
    }

    JsonNode generateDataKeyPair(RequestContext ctx, ObjectNode input, boolean withPlaintext) {
        String spec = new Inputs(input, INVALID).requiredString("KeyPairSpec", 1, 32, null);
        if (!KEY_PAIR_SPECS.contains(spec)) {
            throw new AwsException(INVALID, 400, "1 validation error detected: Value '" + spec + "' at 'keyPairSpec' failed to satisfy "
                    + "constraint: Member must satisfy enum value set: " + new java.util.TreeSet<>(KEY_PAIR_SPECS));
        }
        Map<String, String> context = encryptionContext(input, "EncryptionContext");
        Key k = requireKey(ctx, input, "KeyId");
        requireUsable(k);
        requireUsage(k, "ENCRYPT_DECRYPT");
        java.security.KeyPair pair = keys.generateKeyPair(spec);
        byte[] priv = pair.getPrivate().getEncoded();
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("PrivateKeyCiphertextBlob", Base64.getEncoder().encodeToString(seal(k, priv, context)));
        if (withPlaintext) {
            out.put("PrivateKeyPlaintext", Base64.getEncoder().encodeToString(priv));
        }
        java.util.Arrays.fill(priv, (byte) 0);
        out.put("PublicKey", Base64.getEncoder().encodeToString(pair.getPublic().getEncoded()));
        out.put("KeyId", k.arn());
        out.put("KeyPairSpec", spec);
        return out;
    }

    // ---- aliases ----

    private static String aliasName(ObjectNode input) {
        String name = new Inputs(input, INVALID).requiredString("AliasName", 7, 256, ALIAS);
        if (name.startsWith("alias/aws/")) {
            throw new AwsException("NotAuthorizedException", 400, "The alias prefix alias/aws/ is reserved for AWS managed keys.");
        }
        return name;
    }

    JsonNode createAlias(RequestContext ctx, ObjectNode input) {
        String name = aliasName(input);
        Key k = requireKey(ctx, input, "TargetKeyId");
        if (k.state().equals("PendingDeletion")) {
            throw new AwsException("KMSInvalidStateException", 400, k.arn() + " is pending deletion.");
        }
        String account = ctx.principal().account().value();
        try {
            keys.change(h -> new KmsRepository(h).insertAlias(new KmsRepository.Alias(account, name, k.keyId(), keys.now())));
        } catch (DuplicateKeyException e) {
            throw new AwsException("AlreadyExistsException", 400, "An alias with the name " + aliasArn(ctx, name) + " already exists");
        }
        return JsonNodeFactory.instance.objectNode();
    }

    JsonNode updateAlias(RequestContext ctx, ObjectNode input) {
        String name = aliasName(input);
        Key k = requireKey(ctx, input, "TargetKeyId");
        boolean updated = keys.changeAndGet(h -> new KmsRepository(h).retargetAlias(ctx.principal().account().value(), name, k.keyId()));
        if (!updated) {
            throw new AwsException("NotFoundException", 400, "Alias " + aliasArn(ctx, name) + " is not found.");
        }
        return JsonNodeFactory.instance.objectNode();
    }

    JsonNode deleteAlias(RequestContext ctx, ObjectNode input) {
        String name = aliasName(input);
        boolean deleted = keys.changeAndGet(h -> new KmsRepository(h).deleteAlias(ctx.principal().account().value(), name));
        if (!deleted) {
            throw new AwsException("NotFoundException", 400, "Alias " + aliasArn(ctx, name) + " is not found.");
        }
        return JsonNodeFactory.instance.objectNode();
    }

    JsonNode listAliases(RequestContext ctx, ObjectNode input) {
        Optional<String> keyId = input.hasNonNull("KeyId") ? Optional.of(requireKey(ctx, input, "KeyId").keyId()) : Optional.empty();
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode list = out.putArray("Aliases");
        for (var a : keys.store().read(h -> new KmsRepository(h).aliases(ctx.principal().account().value(), keyId))) {
            list.addObject().put("AliasName", a.aliasName()).put("AliasArn", aliasArn(ctx, a.aliasName())).put("TargetKeyId", a.keyId())
                    .put("CreationDate", a.createdAt().toEpochMilli() / 1000.0);
        }
        out.put("Truncated", false);
        return out;
    }

    // ---- key policies ----

    private static void requireDefaultPolicyName(ObjectNode input) {
        String name = input.path("PolicyName").asText("default");
        if (!name.equals("default")) {
            throw new AwsException("NotFoundException", 400, "No such policy exists");
        }
    }

    JsonNode getKeyPolicy(RequestContext ctx, ObjectNode input) {
        requireDefaultPolicyName(input);
        Key k = requireKey(ctx, input, "KeyId");
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("Policy", k.policy());
        out.put("PolicyName", "default");
        return out;
    }

    JsonNode putKeyPolicy(RequestContext ctx, ObjectNode input) {
        requireDefaultPolicyName(input);
        String policy = new Inputs(input, INVALID).requiredString("Policy", 1, 32768, null);
        checkPolicy(policy);
        Key k = requireKey(ctx, input, "KeyId");
        boolean bypass = input.path("BypassPolicyLockoutSafetyCheck").asText("false").equalsIgnoreCase("true");
        if (!bypass && !stillAllowsPutKeyPolicy(ctx, k, policy)) {
            throw new AwsException("MalformedPolicyDocumentException", 400,
                    "The new key policy will not allow you to update the key policy in the future.");
        }
        keys.change(h -> new KmsRepository(h).setPolicy(k.keyId(), policy));
        policyChanged();
        return JsonNodeFactory.instance.objectNode();
    }

    /** KMS's lockout safety check: the new policy must still let the caller (or its account) change the policy. */
    private static boolean stillAllowsPutKeyPolicy(RequestContext ctx, Key k, String policy) {
        Principal p = ctx.principal();
        String roleArn = p.isRoleSession() ? p.session().map(Principal.Session::issuer).orElse("") : "";
        Map<String, List<String>> keys = new HashMap<>();
        RequestPipeline.globalConditionKeys(ctx, keys);
        dev.citadel.policy.RequestFacts facts = new dev.citadel.policy.RequestFacts("kms:PutKeyPolicy", k.arn(), p.arn(), p.account().value(),
                roleArn, keys);
        return PolicyEvaluator.evaluateAlone(new PolicyEvaluator.Source("the new key policy", parsePolicy(policy)), facts).allowed();
    }

    JsonNode listKeyPolicies(RequestContext ctx, ObjectNode input) {
        requireKey(ctx, input, "KeyId");
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.putArray("PolicyNames").add("default");
        out.put("Truncated", false);
        return out;
    }

    // ---- rotation and deletion ----

    JsonNode setRotation(RequestContext ctx, ObjectNode input, boolean enabled) {
        int period = new Inputs(input, INVALID).optionalInt("RotationPeriodInDays", 90, 2560).orElse(365);
        Key k = requireKey(ctx, input, "KeyId");
        requireUsable(k);
        if (!k.keySpec().equals("SYMMETRIC_DEFAULT")) {
            throw new AwsException("UnsupportedOperationException", 400, k.arn() + " does not support automatic rotation.");
        }
        keys.change(h -> new KmsRepository(h).setRotation(k.keyId(), enabled, enabled ? period : k.rotationPeriodDays()));
        return JsonNodeFactory.instance.objectNode();
    }

    JsonNode getKeyRotationStatus(RequestContext ctx, ObjectNode input) {
        Key k = requireKey(ctx, input, "KeyId");
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("KeyRotationEnabled", k.rotationEnabled());
        out.put("KeyId", k.arn());
        if (k.rotationEnabled()) {
            out.put("RotationPeriodInDays", k.rotationPeriodDays());
            Instant last = keys.store().read(h -> new KmsRepository(h).version(k.keyId(), k.currentVersion()))
                    .map(KmsRepository.Version::createdAt).orElse(k.createdAt());
            out.put("NextRotationDate", last.plus(Duration.ofDays(k.rotationPeriodDays())).toEpochMilli() / 1000.0);
        }
        return out;
    }

    JsonNode rotateKeyOnDemand(RequestContext ctx, ObjectNode input) {
        Key k = requireKey(ctx, input, "KeyId");
        requireUsable(k);
        if (!k.keySpec().equals("SYMMETRIC_DEFAULT")) {
            throw new AwsException("UnsupportedOperationException", 400, k.arn() + " does not support rotation.");
        }
        keys.rotate(k);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("KeyId", k.keyId());
        return out;
    }

    JsonNode scheduleKeyDeletion(RequestContext ctx, ObjectNode input) {
        int days = new Inputs(input, INVALID).optionalInt("PendingWindowInDays", 7, 30).orElse(30);
        Key k = requireKey(ctx, input, "KeyId");
        if (k.state().equals("PendingDeletion")) {
            throw new AwsException("KMSInvalidStateException", 400, k.arn() + " is pending deletion.");
        }
        Instant when = keys.now().plus(Duration.ofDays(days));
        keys.change(h -> new KmsRepository(h).setState(k.keyId(), "PendingDeletion", Optional.of(when)));
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("KeyId", k.arn());
        out.put("DeletionDate", when.toEpochMilli() / 1000.0);
        out.put("KeyState", "PendingDeletion");
        out.put("PendingWindowInDays", days);
        return out;
    }

    JsonNode cancelKeyDeletion(RequestContext ctx, ObjectNode input) {
        Key k = requireKey(ctx, input, "KeyId");
        if (!k.state().equals("PendingDeletion")) {
            throw new AwsException("KMSInvalidStateException", 400, k.arn() + " is not pending deletion.");
        }
        keys.change(h -> new KmsRepository(h).setState(k.keyId(), "Disabled", Optional.empty()));
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("KeyId", k.arn());
        return out;
    }

    // ---- tags ----

    private static Map<String, String> tags(ObjectNode input) {
        Map<String, String> out = new LinkedHashMap<>();
        JsonNode tags = input.get("Tags");
        if (tags == null || tags.isNull()) {
            return out;
        }
        if (!tags.isArray() || tags.size() > 50) {
            throw new AwsException(INVALID, 400, "Tags must be a list of at most 50 tags.");
        }
        for (JsonNode t : tags) {
            String k = t.path("TagKey").asText("");
            String v = t.path("TagValue").asText("");
            if (k.isEmpty() || k.length() > 128 || v.length() > 256) {
                throw new AwsException("TagException", 400, "Tag keys must be 1 to 128 characters and values at most 256.");
            }
            if (k.startsWith("aws:")) {
                throw new AwsException("TagException", 400, "Tags beginning with aws: are reserved.");
            }
            out.put(k, v);
        }
        return out;
    }

    JsonNode tagResource(RequestContext ctx, ObjectNode input) {
        Map<String, String> tags = tags(input);
        Key k = requireKey(ctx, input, "KeyId");
        keys.change(h -> new KmsRepository(h).tag(k.keyId(), tags));
        return JsonNodeFactory.instance.objectNode();
    }

    JsonNode untagResource(RequestContext ctx, ObjectNode input) {
        List<String> names = new ArrayList<>();
        input.path("TagKeys").forEach(t -> names.add(t.asText()));
        Key k = requireKey(ctx, input, "KeyId");
        keys.change(h -> new KmsRepository(h).untag(k.keyId(), names));
        return JsonNodeFactory.instance.objectNode();
    }

    JsonNode listResourceTags(RequestContext ctx, ObjectNode input) {
        Key k = requireKey(ctx, input, "KeyId");
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode list = out.putArray("Tags");
        keys.store().read(h -> new KmsRepository(h).tags(k.keyId())).forEach((key, value) -> list.addObject().put("TagKey", key)
                .put("TagValue", value));
        out.put("Truncated", false);
        return out;
    }

    // ---- grants ----

    JsonNode createGrant(RequestContext ctx, ObjectNode input) {
        Inputs in = new Inputs(input, INVALID);
        String grantee = in.requiredString("GranteePrincipal", 1, 256, null);
        String retiring = in.optionalString("RetiringPrincipal", 1, 256, null).orElse("");
        String name = in.optionalString("Name", 1, 256, Pattern.compile("[a-zA-Z0-9:/_-]+")).orElse("");
        List<String> operations = new ArrayList<>();
        JsonNode ops = input.get("Operations");
        if (ops == null || !ops.isArray() || ops.isEmpty()) {
            throw new AwsException(INVALID, 400, "1 validation error detected: Value null at 'operations' failed to satisfy constraint: "
                    + "Member must not be null");
        }
        for (JsonNode o : ops) {
            if (!GRANT_OPERATIONS.contains(o.asText())) {
                throw new AwsException(INVALID, 400, "1 validation error detected: Value '" + o.asText() + "' at 'operations' failed to "
                        + "satisfy constraint: Member must satisfy enum value set: " + new java.util.TreeSet<>(GRANT_OPERATIONS));
            }
            operations.add(o.asText());
        }
        JsonNode constraints = input.get("Constraints");
        String constraintJson = "{}";
        if (constraints != null && !constraints.isNull()) {
            if (!constraints.isObject()) {
                throw new AwsException(INVALID, 400, "Constraints must be an object.");
            }
            ObjectNode c = JsonNodeFactory.instance.objectNode();
            for (String kind : List.of("EncryptionContextEquals", "EncryptionContextSubset")) {
                JsonNode m = constraints.get(kind);
                if (m != null && !m.isNull()) {
                    c.set(kind, JSON.valueToTree(encryptionContext((ObjectNode) constraints, kind)));
                }
            }
            constraintJson = c.toString();
        }
        Key k = requireKey(ctx, input, "KeyId");
        if (k.state().equals("PendingDeletion")) {
            throw new AwsException("KMSInvalidStateException", 400, k.arn() + " is pending deletion.");
        }
        String grantId = Base64.getUrlEncoder().withoutPadding().encodeToString(keys.randomBytes(32)).toLowerCase(java.util.Locale.ROOT);
        String finalConstraints = constraintJson;
        keys.change(h -> {
            KmsRepository repo = new KmsRepository(h);
            if (repo.grants(k.keyId()).size() >= 50_000) {
                throw new AwsException("LimitExceededException", 400, "The number of grants for " + k.arn() + " has reached its limit.");
            }
            repo.insertGrant(new KmsRepository.Grant(grantId, k.keyId(), name, grantee, retiring, operations, finalConstraints,
                    ctx.principal().account().value(), keys.now()));
        });
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("GrantId", grantId);
        out.put("GrantToken", grantId);
        return out;
    }

    JsonNode listGrants(RequestContext ctx, ObjectNode input) {
        Key k = requireKey(ctx, input, "KeyId");
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode list = out.putArray("Grants");
        for (KmsRepository.Grant g : keys.store().read(h -> new KmsRepository(h).grants(k.keyId()))) {
            ObjectNode n = list.addObject();
            n.put("KeyId", k.arn()).put("GrantId", g.grantId()).put("GranteePrincipal", g.granteePrincipal())
                    .put("IssuingAccount", "arn:aws:iam::" + g.issuingAccount() + ":root").put("CreationDate", g.createdAt().toEpochMilli() / 1000.0);
            if (!g.name().isEmpty()) {
                n.put("Name", g.name());
            }
            if (!g.retiringPrincipal().isEmpty()) {
                n.put("RetiringPrincipal", g.retiringPrincipal());
            }
            ArrayNode ops = n.putArray("Operations");
            g.operations().forEach(ops::add);
            try {
                JsonNode c = JSON.readTree(g.constraints());
                if (!c.isEmpty()) {
                    n.set("Constraints", c);
                }
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        }
        out.put("Truncated", false);
        return out;
    }

    JsonNode retireGrant(RequestContext ctx, ObjectNode input) {
        Inputs in = new Inputs(input, INVALID);
        Optional<String> token = in.optionalString("GrantToken", 1, 8192, null);
        Optional<String> id = in.optionalString("GrantId", 1, 128, null).or(() -> token);
        if (id.isEmpty()) {
            throw new AwsException(INVALID, 400, "Either GrantToken, or both KeyId and GrantId, must be given.");
        }
        Key k = requireKey(ctx, input, "KeyId");
        KmsRepository.Grant g = keys.store().read(h -> new KmsRepository(h).grant(k.keyId(), id.get()))
                .orElseThrow(() -> new AwsException("NotFoundException", 400, "Grant ID " + id.get() + " not found"));
        Principal p = ctx.principal();
        boolean mayRetire = p.arn().equals(g.retiringPrincipal()) || p.arn().equals(g.granteePrincipal())
                || p.account().value().equals(k.accountId());
        if (!mayRetire) {
            throw new AwsException("AccessDeniedException", 400, "User: " + p.arn() + " is not authorized to perform: kms:RetireGrant on "
                    + "resource: " + k.arn() + " because it is neither the grant's retiring principal nor its grantee");
        }
        keys.change(h -> new KmsRepository(h).deleteGrant(g.grantId()));
        return JsonNodeFactory.instance.objectNode();
    }

    JsonNode revokeGrant(RequestContext ctx, ObjectNode input) {
        String id = new Inputs(input, INVALID).requiredString("GrantId", 1, 128, null);
        Key k = requireKey(ctx, input, "KeyId");
        boolean deleted = keys.changeAndGet(h -> new KmsRepository(h).grant(k.keyId(), id).isPresent()
                && new KmsRepository(h).deleteGrant(id));
        if (!deleted) {
            throw new AwsException("NotFoundException", 400, "Grant ID " + id + " not found");
        }
        return JsonNodeFactory.instance.objectNode();
    }
}
