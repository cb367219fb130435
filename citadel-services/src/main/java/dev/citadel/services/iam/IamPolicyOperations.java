package dev.citadel.services.iam;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import dev.citadel.metadata.DuplicateKeyException;
import dev.citadel.metadata.Page;
import dev.citadel.metadata.iam.IamRepository;
import dev.citadel.metadata.iam.IamTagRepository;
import dev.citadel.metadata.iam.ManagedPolicyRepository;
import dev.citadel.metadata.iam.ManagedPolicyRepository.ManagedPolicy;
import dev.citadel.pipeline.Operation;
import dev.citadel.pipeline.RequestContext;
import dev.citadel.pipeline.spec.ConditionKeyResolver;
import dev.citadel.pipeline.spec.OperationSpec;
import dev.citadel.pipeline.spec.ResourceResolver;
import dev.citadel.policy.MalformedPolicyException;
import dev.citadel.policy.PolicyParser;
import dev.citadel.services.Inputs;
import dev.citadel.services.accounts.AccountDirectory;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
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
 * IAM customer managed policies and their versions, permissions boundaries, tags of users, roles
 * and policies, and {@code GetAccountAuthorizationDetails}. Every change that bears on
 * authorization tells the directory, whose listeners drop cached decisions at once.
 */
final class IamPolicyOperations {
    static final Pattern NAME = Pattern.compile("[\\w+=,.@-]+");
    static final Pattern PATH = Pattern.compile("/|/[\\u0021-\\u007E]+/");
    private static final Pattern POLICY_ARN = Pattern.compile("arn:[^:]+:iam::[^:]*:policy/.+");
    private static final Pattern VERSION_ID = Pattern.compile("v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?");
    private static final Pattern TAG = Pattern.compile("[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*");
    private static final int MAX_VERSIONS = 5;
    private static final int MAX_POLICY_CHARS = 6144;
    private static final int MAX_TAGS = 50;

    private final AccountDirectory directory;
    private final PolicyAuthorizer authorizer;

    IamPolicyOperations(AccountDirectory directory, PolicyAuthorizer authorizer) {
        this.directory = directory;
        this.authorizer = authorizer;
    }

    List<Operation> operations() {
        return List.of(
                Operation.of(policySpec("CreatePolicy", true).conditionKeys(requestTags()).build(), this::createPolicy),
                Operation.of(policySpec("GetPolicy", false).readOnly().build(), this::getPolicy),
                Operation.of(policySpec("DeletePolicy", false).build(), this::deletePolicy),
                Operation.of(policySpec("CreatePolicyVersion", false).build(), this::createPolicyVersion),
                Operation.of(policySpec("GetPolicyVersion", false).readOnly().build(), this::getPolicyVersion),
                Operation.of(policySpec("ListPolicyVersions", false).readOnly().build(), this::listPolicyVersions),
                Operation.of(policySpec("DeletePolicyVersion", false).build(), this::deletePolicyVersion),
                Operation.of(policySpec("SetDefaultPolicyVersion", false).build(), this::setDefaultPolicyVersion),
                Operation.of(policySpec("TagPolicy", false).conditionKeys(requestTags()).build(), (c, i) -> tag(c, i, "policy")),
                Operation.of(policySpec("UntagPolicy", false).conditionKeys(tagKeys()).build(), (c, i) -> untag(c, i, "policy")),
                Operation.of(policySpec("ListPolicyTags", false).readOnly().build(), (c, i) -> listTags(c, i, "policy")),
                Operation.of(OperationSpec.builder("iam", "ListPolicies").resources(ResourceResolver.ALL).readOnly().build(), this::listPolicies),
                Operation.of(OperationSpec.builder("iam", "GetAccountAuthorizationDetails").resources(ResourceResolver.ALL).readOnly().build(),
                        this::getAccountAuthorizationDetails),
                Operation.of(principalSpec("PutUserPermissionsBoundary", "user").conditionKeys(boundaryKey()).build(),
                        (c, i) -> putBoundary(c, i, "user")),
                Operation.of(principalSpec("DeleteUserPermissionsBoundary", "user").build(), (c, i) -> deleteBoundary(c, i, "user")),
                Operation.of(principalSpec("PutRolePermissionsBoundary", "role").conditionKeys(boundaryKey()).build(),
                        (c, i) -> putBoundary(c, i, "role")),
                Operation.of(principalSpec("DeleteRolePermissionsBoundary", "role").build(), (c, i) -> deleteBoundary(c, i, "role")),
                Operation.of(principalSpec("TagUser", "user").conditionKeys(requestTags()).build(), (c, i) -> tag(c, i, "user")),
                Operation.of(principalSpec("UntagUser", "user").conditionKeys(tagKeys()).build(), (c, i) -> untag(c, i, "user")),
                Operation.of(principalSpec("ListUserTags", "user").readOnly().build(), (c, i) -> listTags(c, i, "user")),
                Operation.of(principalSpec("TagRole", "role").conditionKeys(requestTags()).build(), (c, i) -> tag(c, i, "role")),
                Operation.of(principalSpec("UntagRole", "role").conditionKeys(tagKeys()).build(), (c, i) -> untag(c, i, "role")),
                Operation.of(principalSpec("ListRoleTags", "role").readOnly().build(), (c, i) -> listTags(c, i, "role")));
    }

    // ---- specs and condition keys ----

    private OperationSpec.Builder policySpec(String name, boolean create) {
        return OperationSpec.builder("iam", name).maxBodyBytes(256 * 1024).resources((ctx, input) -> {
            if (create) {
                String path = input.path("Path").asText("/");
                return List.of("arn:aws:iam::" + ctx.principal().account() + ":policy" + path + input.path("PolicyName").asText(""));
            }
            return List.of(input.path("PolicyArn").asText(""));
        });
    }

    /** A user or role operation: the resource is the named user or role. */
    private OperationSpec.Builder principalSpec(String name, String type) {
        String member = type.equals("user") ? "UserName" : "RoleName";
        return OperationSpec.builder("iam", name).maxBodyBytes(64 * 1024)
                .resources((ctx, input) -> List.of("arn:aws:iam::" + ctx.principal().account() + ":" + type + "/" + input.path(member).asText("")));
    }

    /** aws:RequestTag/* and aws:TagKeys from a Tags list. */
    static ConditionKeyResolver requestTags() {
        return (ctx, input) -> {
            Map<String, List<String>> keys = new HashMap<>();
            JsonNode tags = input.get("Tags");
            if (tags != null && tags.isArray()) {
                List<String> names = new ArrayList<>();
                for (JsonNode t : tags) {
                    names.add(t.path("Key").asText(""));
                    keys.put("aws:RequestTag/" + t.path("Key").asText(""), List.of(t.path("Value").asText("")));
                }
                keys.put("aws:TagKeys", names);
            }
            return keys;
        };
    }

    private static ConditionKeyResolver tagKeys() {
        return (ctx, input) -> {
            List<String> names = new ArrayList<>();
            input.path("TagKeys").forEach(k -> names.add(k.asText()));
            return Map.of("aws:TagKeys", names);
        };
    }

    private static ConditionKeyResolver boundaryKey() {
        return (ctx, input) -> Map.of("iam:PermissionsBoundary", List.of(input.path("PermissionsBoundary").asText("")));
    }

    // ---- managed policies ----

    JsonNode createPolicy(RequestContext ctx, ObjectNode input) {
        Inputs in = new Inputs(input, "ValidationError");
        String name = in.requiredString("PolicyName", 1, 128, NAME);
        String path = in.optionalString("Path", 1, 512, PATH).orElse("/");
        String document = in.requiredString("PolicyDocument", 1, 131072, null);
        String description = in.optionalString("Description", 0, 1000, null).orElse("");
        Map<String, String> tags = tags(input);
        checkDocument(document);
        String account = account(ctx);
        Instant now = directory.now().truncatedTo(ChronoUnit.MILLIS);
        ManagedPolicy policy = new ManagedPolicy(account, name, directory.ids().iamId("ANPA"), path,
                "arn:aws:iam::" + account + ":policy" + path + name, description, "v1", 2, now, now, 0);
        try {
            directory.store().useTransaction(h -> {
                new ManagedPolicyRepository(h).insert(policy, document);
                new IamTagRepository(h).tag(account, "policy", policy.arn(), tags);
            });
        } catch (DuplicateKeyException e) {
            throw new AwsException("EntityAlreadyExists", 409, "A policy called " + name + " already exists. Duplicate names are not allowed.");
        }
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ObjectNode p = policyJson(policy, 0);
        if (!tags.isEmpty()) {
            p.set("Tags", tagList(tags));
        }
        out.set("Policy", p);
        return out;
    }

    JsonNode getPolicy(RequestContext ctx, ObjectNode input) {
        String arn = policyArn(input);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        if (ManagedPolicies.byArn(arn).isPresent()) {
            out.set("Policy", awsPolicyJson(arn));
            return out;
        }
        ManagedPolicy p = requirePolicy(ctx, arn);
        ObjectNode n = policyJson(p, boundaryUses(ctx, arn));
        Map<String, String> tags = directory.tags(account(ctx), "policy", arn);
        if (!tags.isEmpty()) {
            n.set("Tags", tagList(tags));
        }
        out.set("Policy", n);
        return out;
    }

    JsonNode deletePolicy(RequestContext ctx, ObjectNode input) {
        String arn = policyArn(input);
        String account = account(ctx);
        directory.store().useTransaction(h -> {
            ManagedPolicyRepository repo = new ManagedPolicyRepository(h);
            ManagedPolicy p = repo.byArn(account, arn).orElseThrow(() -> noSuchPolicy(arn));
            repo.lock(arn);
            if (p.attachments() > 0 || new IamTagRepository(h).boundaryUses(account, arn) > 0) {
                throw new AwsException("DeleteConflict", 409, "Cannot delete a policy attached to entities.");
            }
            if (repo.versions(arn).size() > 1) {
                throw new AwsException("DeleteConflict", 409, "This policy has more than one version. Before you delete a policy, you must "
                        + "delete the policy's versions. The default version is deleted with the policy.");
            }
            repo.delete(account, arn);
        });
        directory.identityChanged();
        return JsonNodeFactory.instance.objectNode();
    }

    JsonNode createPolicyVersion(RequestContext ctx, ObjectNode input) {
        String arn = policyArn(input);
        Inputs in = new Inputs(input, "ValidationError");
        String document = in.requiredString("PolicyDocument", 1, 131072, null);
        boolean setAsDefault = input.path("SetAsDefault").asText("false").equalsIgnoreCase("true");
        checkDocument(document);
        String account = account(ctx);
        Instant now = directory.now().truncatedTo(ChronoUnit.MILLIS);
        String versionId = directory.store().inTransaction(h -> {
            ManagedPolicyRepository repo = new ManagedPolicyRepository(h);
            repo.byArn(account, arn).orElseThrow(() -> noSuchPolicy(arn));
            repo.lock(arn);
            if (repo.versions(arn).size() >= MAX_VERSIONS) {
                throw new AwsException("LimitExceeded", 409, "A managed policy can have up to " + MAX_VERSIONS + " versions. Before you "
                        + "create a new version, you must delete an existing version.");
            }
            return repo.addVersion(arn, document, now, setAsDefault);
        });
        directory.identityChanged();
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ObjectNode v = out.putObject("PolicyVersion");
        v.put("VersionId", versionId);
        v.put("IsDefaultVersion", setAsDefault);
        v.put("CreateDate", now.truncatedTo(ChronoUnit.SECONDS).toString());
        return out;
    }

    JsonNode getPolicyVersion(RequestContext ctx, ObjectNode input) {
        String arn = policyArn(input);
        String versionId = new Inputs(input, "ValidationError").requiredString("VersionId", 2, 128, VERSION_ID);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        if (ManagedPolicies.byArn(arn).isPresent()) {
            if (!versionId.equals("v1")) {
                throw new AwsException("NoSuchEntity", 404, "Policy " + arn + " version " + versionId + " does not exist or is not attachable.");
            }
            ObjectNode v = out.putObject("PolicyVersion");
            v.put("Document", urlEncoded(ManagedPolicies.document(arn)));
            v.put("VersionId", "v1");
            v.put("IsDefaultVersion", true);
            v.put("CreateDate", ManagedPolicies.CREATED.toString());
            return out;
        }
        ManagedPolicy p = requirePolicy(ctx, arn);
        var version = directory.store().read(h -> new ManagedPolicyRepository(h).version(arn, versionId))
                .orElseThrow(() -> new AwsException("NoSuchEntity", 404, "Policy " + arn + " version " + versionId
                        + " does not exist or is not attachable."));
        ObjectNode v = out.putObject("PolicyVersion");
        v.put("Document", urlEncoded(version.document()));
        v.put("VersionId", version.versionId());
        v.put("IsDefaultVersion", version.versionId().equals(p.defaultVersion()));
        v.put("CreateDate", version.createdAt().truncatedTo(ChronoUnit.SECONDS).toString());
        return out;
    }

    JsonNode listPolicyVersions(RequestContext ctx, ObjectNode input) {
        String arn = policyArn(input);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode list = out.putArray("Versions");
        if (ManagedPolicies.byArn(arn).isPresent()) {
            ObjectNode v = list.addObject();
            v.put("VersionId", "v1");
            v.put("IsDefaultVersion", true);
            v.put("CreateDate", ManagedPolicies.CREATED.toString());
        } else {
            ManagedPolicy p = requirePolicy(ctx, arn);
            for (var version : directory.store().read(h -> new ManagedPolicyRepository(h).versions(arn))) {
                ObjectNode v = list.addObject();
                v.put("VersionId", version.versionId());
                v.put("IsDefaultVersion", version.versionId().equals(p.defaultVersion()));
                v.put("CreateDate", version.createdAt().truncatedTo(ChronoUnit.SECONDS).toString());
            }
        }
        out.put("IsTruncated", false);
        return out;
    }

    JsonNode deletePolicyVersion(RequestContext ctx, ObjectNode input) {
        String arn = policyArn(input);
        String versionId = new Inputs(input, "ValidationError").requiredString("VersionId", 2, 128, VERSION_ID);
        String account = account(ctx);
        directory.store().useTransaction(h -> {
            ManagedPolicyRepository repo = new ManagedPolicyRepository(h);
            ManagedPolicy p = repo.byArn(account, arn).orElseThrow(() -> noSuchPolicy(arn));
            if (p.defaultVersion().equals(versionId)) {
                throw new AwsException("DeleteConflict", 409, "Cannot delete the default version of a policy.");
            }
            if (!repo.deleteVersion(arn, versionId)) {
                throw new AwsException("NoSuchEntity", 404, "Policy " + arn + " version " + versionId + " does not exist or is not attachable.");
            }
        });
        return JsonNodeFactory.instance.objectNode();
    }

    JsonNode setDefaultPolicyVersion(RequestContext ctx, ObjectNode input) {
        String arn = policyArn(input);
        String versionId = new Inputs(input, "ValidationError").requiredString("VersionId", 2, 128, VERSION_ID);
        String account = account(ctx);
        directory.store().useTransaction(h -> {
            ManagedPolicyRepository repo = new ManagedPolicyRepository(h);
            repo.byArn(account, arn).orElseThrow(() -> noSuchPolicy(arn));
            if (repo.version(arn, versionId).isEmpty()) {
                throw new AwsException("NoSuchEntity", 404, "Policy " + arn + " version " + versionId + " does not exist or is not attachable.");
            }
            repo.setDefault(arn, versionId, directory.now());
        });
        directory.identityChanged();
        return JsonNodeFactory.instance.objectNode();
    }

    JsonNode listPolicies(RequestContext ctx, ObjectNode input) {
        Inputs in = new Inputs(input, "ValidationError");
        String scope = in.optionalString("Scope", 3, 5, Pattern.compile("All|AWS|Local")).orElse("All");
        boolean onlyAttached = input.path("OnlyAttached").asText("false").equalsIgnoreCase("true");
        String prefix = in.optionalString("PathPrefix", 1, 512, Pattern.compile("/[\\u0021-\\u007F]*")).orElse("/");
        int max = in.optionalInt("MaxItems", 1, 1000).orElse(100);
        Optional<String> marker = in.optionalString("Marker", 1, 2048, null);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode list = out.putArray("Policies");
        String account = account(ctx);
        if (!scope.equals("Local") && marker.isEmpty() && prefix.equals("/")) {
            for (String arn : ManagedPolicies.arns()) {
                int used = directory.store().read(h -> countAttachments(h, account, arn));
                if (!onlyAttached || used > 0) {
                    list.add(awsPolicyJson(arn).put("AttachmentCount", used));
                }
            }
        }
        if (!scope.equals("AWS")) {
            Page<ManagedPolicy> page;
            try {
                page = directory.store().read(h -> new ManagedPolicyRepository(h).list(account, prefix, onlyAttached, marker, max));
            } catch (IllegalArgumentException e) {
                throw new AwsException("ValidationError", 400, "Invalid Marker.");
            }
            page.items().forEach(p -> list.add(policyJson(p, boundaryUses(ctx, p.arn()))));
            out.put("IsTruncated", page.nextToken().isPresent());
            page.nextToken().ifPresent(t -> out.put("Marker", t));
        } else {
            out.put("IsTruncated", false);
        }
        return out;
    }

    private static int countAttachments(org.jdbi.v3.core.Handle h, String account, String arn) {
        return h.createQuery("SELECT COUNT(*) FROM iam_attached_policies WHERE account_id = :a AND policy_arn = :arn")
                .bind("a", account).bind("arn", arn).mapTo(Integer.class).one();
    }

    // ---- boundaries ----

    JsonNode putBoundary(RequestContext ctx, ObjectNode input, String type) {
        String name = name(input, type);
        String arn = new Inputs(input, "ValidationError").requiredString("PermissionsBoundary", 20, 2048, POLICY_ARN);
        if (authorizer.managed(account(ctx), arn).isEmpty()) {
            throw new AwsException("NoSuchEntity", 404, "Scope ARN: " + arn + " does not exist or is not attachable.");
        }
        boolean found = directory.store().inTransaction(h -> new IamTagRepository(h).setBoundary(account(ctx), type, name, Optional.of(arn)));
        if (!found) {
            throw noSuch(type, name);
        }
        directory.identityChanged();
        return JsonNodeFactory.instance.objectNode();
    }

    JsonNode deleteBoundary(RequestContext ctx, ObjectNode input, String type) {
        String name = name(input, type);
        boolean found = directory.store().inTransaction(h -> new IamTagRepository(h).setBoundary(account(ctx), type, name, Optional.empty()));
        if (!found) {
            throw noSuch(type, name);
        }
        directory.identityChanged();
        return JsonNodeFactory.instance.objectNode();
    }

    // ---- tags ----

    JsonNode tag(RequestContext ctx, ObjectNode input, String type) {
        String name = type.equals("policy") ? policyArn(input) : name(input, type);
        Map<String, String> tags = tags(input);
        if (tags.isEmpty()) {
            throw new AwsException("ValidationError", 400, "1 validation error detected: Value null at 'tags' failed to satisfy constraint: "
                    + "Member must not be null");
        }
        String account = account(ctx);
        requireTaggable(ctx, type, name);
        directory.store().useTransaction(h -> {
            IamTagRepository repo = new IamTagRepository(h);
            Map<String, String> merged = new HashMap<>();
            repo.tags(account, type, name).keySet().forEach(k -> merged.put(k.toLowerCase(Locale.ROOT), k));
            tags.keySet().forEach(k -> merged.put(k.toLowerCase(Locale.ROOT), k));
            if (merged.size() > MAX_TAGS) {
                throw new AwsException("LimitExceeded", 409, "The number of tags has reached the maximum limit.");
            }
            repo.tag(account, type, name, tags);
        });
        directory.identityChanged();
        return JsonNodeFactory.instance.objectNode();
    }

    JsonNode untag(RequestContext ctx, ObjectNode input, String type) {
        String name = type.equals("policy") ? policyArn(input) : name(input, type);
        JsonNode keys = input.get("TagKeys");
        if (keys == null || !keys.isArray() || keys.isEmpty() || keys.size() > MAX_TAGS) {
            throw new AwsException("ValidationError", 400, "1 validation error detected: Value at 'tagKeys' failed to satisfy constraint: "
                    + "Member must have length between 1 and " + MAX_TAGS);
        }
        List<String> names = new ArrayList<>();
        keys.forEach(k -> names.add(k.asText()));
        requireTaggable(ctx, type, name);
        directory.store().useTransaction(h -> new IamTagRepository(h).untag(account(ctx), type, name, names));
        directory.identityChanged();
        return JsonNodeFactory.instance.objectNode();
    }

    JsonNode listTags(RequestContext ctx, ObjectNode input, String type) {
        String name = type.equals("policy") ? policyArn(input) : name(input, type);
        requireTaggable(ctx, type, name);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.set("Tags", tagList(directory.tags(account(ctx), type, name)));
        out.put("IsTruncated", false);
        return out;
    }

    private void requireTaggable(RequestContext ctx, String type, String name) {
        String account = account(ctx);
        boolean exists = directory.store().read(h -> switch (type) {
            case "user" -> new IamRepository(h).user(account, name).isPresent();
            case "role" -> new IamRepository(h).role(account, name).isPresent();
            default -> new ManagedPolicyRepository(h).byArn(account, name).isPresent();
        });
        if (!exists) {
            throw type.equals("policy") ? noSuchPolicy(name) : noSuch(type, name);
        }
    }

    /** The Tags list of a request: keys unique without regard to case, AWS's length and character rules, no {@code aws:} prefix. */
    static Map<String, String> tags(ObjectNode input) {
        JsonNode n = input.get("Tags");
        Map<String, String> out = new LinkedHashMap<>();
        if (n == null || (n.isTextual() && n.asText().isEmpty())) {
            return out;
        }
        if (!n.isArray() || n.size() > MAX_TAGS) {
            throw new AwsException("ValidationError", 400, "1 validation error detected: Value at 'tags' failed to satisfy constraint: "
                    + "Member must have length less than or equal to " + MAX_TAGS);
        }
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (JsonNode t : n) {
            String k = t.path("Key").asText("");
            String v = t.path("Value").asText("");
            if (k.isEmpty() || k.length() > 128 || !TAG.matcher(k).matches()) {
                throw new AwsException("ValidationError", 400, "1 validation error detected: Value '" + k + "' at 'tags.member.key' failed "
                        + "to satisfy constraint: Member must have length between 1 and 128 and satisfy regular expression pattern: "
                        + "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+");
            }
            if (v.length() > 256 || !TAG.matcher(v).matches()) {
                throw new AwsException("ValidationError", 400, "1 validation error detected: Value at 'tags.member.value' failed to satisfy "
                        + "constraint: Member must have length less than or equal to 256 and satisfy regular expression pattern: "
                        + "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*");
            }
            if (k.toLowerCase(Locale.ROOT).startsWith("aws:")) {
                throw new AwsException("InvalidInput", 400, "User-defined tag keys can't start with 'aws:'. That prefix is reserved for AWS.");
            }
            if (!seen.add(k.toLowerCase(Locale.ROOT))) {
                throw new AwsException("InvalidInput", 400, "Duplicate tag keys found. Please note that Tag keys are case insensitive.");
            }
            out.put(k, v);
        }
        return out;
    }

    static ArrayNode tagList(Map<String, String> tags) {
        ArrayNode list = JsonNodeFactory.instance.arrayNode();
        tags.forEach((k, v) -> list.addObject().put("Key", k).put("Value", v));
        return list;
    }

    // ---- GetAccountAuthorizationDetails ----

    JsonNode getAccountAuthorizationDetails(RequestContext ctx, ObjectNode input) {
        java.util.Set<String> filter = new java.util.HashSet<>();
        JsonNode f = input.get("Filter");
        if (f != null && f.isArray()) {
            for (JsonNode x : f) {
                String v = x.asText();
                if (!List.of("User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy").contains(v)) {
                    throw new AwsException("ValidationError", 400, "1 validation error detected: Value '[" + v + "]' at 'filter' failed to "
                            + "satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [User, Role, Group, "
                            + "LocalManagedPolicy, AWSManagedPolicy]]");
                }
                filter.add(v);
            }
        }
        boolean all = filter.isEmpty();
        String account = account(ctx);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        directory.store().read(h -> {
            IamRepository iam = new IamRepository(h);
            IamTagRepository tags = new IamTagRepository(h);
            ArrayNode users = out.putArray("UserDetailList");
            if (all || filter.contains("User")) {
                for (var u : iam.listUsers(account, "/", Optional.empty(), 1000).items()) {
                    ObjectNode n = users.addObject();
                    n.put("Path", u.path()).put("UserName", u.userName()).put("UserId", u.userId()).put("Arn", u.arn())
                            .put("CreateDate", u.createdAt().truncatedTo(ChronoUnit.SECONDS).toString());
                    inlineList(n.putArray("UserPolicyList"), iam.inlinePolicies(account, "user", u.userName()));
                    ArrayNode groups = n.putArray("GroupList");
                    iam.groupsForUser(account, u.userName()).forEach(g -> groups.add(g.groupName()));
                    attachedList(n.putArray("AttachedManagedPolicies"), iam.attachedPolicies(account, "user", u.userName()));
                    tags.boundary(account, "user", u.userName()).ifPresent(b -> boundaryJson(n, b));
                    Map<String, String> t = tags.tags(account, "user", u.userName());
                    if (!t.isEmpty()) {
                        n.set("Tags", tagList(t));
                    }
                }
            }
            ArrayNode groups = out.putArray("GroupDetailList");
            if (all || filter.contains("Group")) {
                for (var g : h.createQuery("SELECT group_name FROM iam_groups WHERE account_id = :a ORDER BY name_key").bind("a", account)
                        .mapTo(String.class).list()) {
                    var group = iam.group(account, g).orElseThrow();
                    ObjectNode n = groups.addObject();
                    n.put("Path", group.path()).put("GroupName", group.groupName()).put("GroupId", group.groupId()).put("Arn", group.arn())
                            .put("CreateDate", group.createdAt().truncatedTo(ChronoUnit.SECONDS).toString());
                    inlineList(n.putArray("GroupPolicyList"), iam.inlinePolicies(account, "group", g));
                    attachedList(n.putArray("AttachedManagedPolicies"), iam.attachedPolicies(account, "group", g));
                }
            }
            ArrayNode roles = out.putArray("RoleDetailList");
            if (all || filter.contains("Role")) {
                for (var r : iam.listRoles(account, "/", Optional.empty(), 1000).items()) {
                    ObjectNode n = roles.addObject();
                    n.put("Path", r.path()).put("RoleName", r.roleName()).put("RoleId", r.roleId()).put("Arn", r.arn())
                            .put("CreateDate", r.createdAt().truncatedTo(ChronoUnit.SECONDS).toString())
                            .put("AssumeRolePolicyDocument", urlEncoded(r.assumeRolePolicyDocument()));
                    n.putArray("InstanceProfileList");
                    inlineList(n.putArray("RolePolicyList"), iam.inlinePolicies(account, "role", r.roleName()));
                    attachedList(n.putArray("AttachedManagedPolicies"), iam.attachedPolicies(account, "role", r.roleName()));
                    tags.boundary(account, "role", r.roleName()).ifPresent(b -> boundaryJson(n, b));
                    Map<String, String> t = tags.tags(account, "role", r.roleName());
                    if (!t.isEmpty()) {
                        n.set("Tags", tagList(t));
                    }
                }
            }
            ArrayNode policies = out.putArray("Policies");
            if (all || filter.contains("AWSManagedPolicy")) {
                for (String arn : ManagedPolicies.arns()) {
                    ObjectNode n = awsPolicyJson(arn).put("AttachmentCount", countAttachments(h, account, arn));
                    ArrayNode versions = n.putArray("PolicyVersionList");
                    versions.addObject().put("Document", urlEncoded(ManagedPolicies.document(arn))).put("VersionId", "v1")
                            .put("IsDefaultVersion", true).put("CreateDate", ManagedPolicies.CREATED.toString());
                    policies.add(n);
                }
            }
            if (all || filter.contains("LocalManagedPolicy")) {
                ManagedPolicyRepository repo = new ManagedPolicyRepository(h);
                for (ManagedPolicy p : repo.list(account, "/", false, Optional.empty(), 1000).items()) {
                    ObjectNode n = policyJson(p, tags.boundaryUses(account, p.arn()));
                    ArrayNode versions = n.putArray("PolicyVersionList");
                    for (var v : repo.versions(p.arn())) {
                        versions.addObject().put("Document", urlEncoded(v.document())).put("VersionId", v.versionId())
                                .put("IsDefaultVersion", v.versionId().equals(p.defaultVersion()))
                                .put("CreateDate", v.createdAt().truncatedTo(ChronoUnit.SECONDS).toString());
                    }
                    policies.add(n);
                }
            }
            return null;
        });
        out.put("IsTruncated", false);
        return out;
    }

    private static void inlineList(ArrayNode list, Map<String, String> inline) {
        inline.forEach((name, doc) -> list.addObject().put("PolicyName", name).put("PolicyDocument", urlEncoded(doc)));
    }

    private static void attachedList(ArrayNode list, List<String> arns) {
        arns.forEach(arn -> list.addObject().put("PolicyName", arn.substring(arn.lastIndexOf('/') + 1)).put("PolicyArn", arn));
    }

    static void boundaryJson(ObjectNode n, String arn) {
        n.putObject("PermissionsBoundary").put("PermissionsBoundaryType", "Policy").put("PermissionsBoundaryArn", arn);
    }

    // ---- shared ----

    private void checkDocument(String document) {
        if (document.chars().filter(c -> !Character.isWhitespace(c)).count() > MAX_POLICY_CHARS) {
            throw new AwsException("LimitExceeded", 409, "Cannot exceed quota for PolicySize: " + MAX_POLICY_CHARS);
        }
        try {
            PolicyParser.parse(document, PolicyParser.Kind.IDENTITY);
        } catch (MalformedPolicyException e) {
            throw new AwsException("MalformedPolicyDocument", 400, e.getMessage());
        }
    }

    private int boundaryUses(RequestContext ctx, String arn) {
        return directory.store().read(h -> new IamTagRepository(h).boundaryUses(account(ctx), arn));
    }

    private ManagedPolicy requirePolicy(RequestContext ctx, String arn) {
        return directory.store().read(h -> new ManagedPolicyRepository(h).byArn(account(ctx), arn)).orElseThrow(() -> noSuchPolicy(arn));
    }

    private static AwsException noSuchPolicy(String arn) {
        return new AwsException("NoSuchEntity", 404, "Policy " + arn + " does not exist or is not attachable.");
    }

    private static AwsException noSuch(String type, String name) {
        return new AwsException("NoSuchEntity", 404, "The " + type + " with name " + name + " cannot be found.");
    }

    private static String policyArn(ObjectNode input) {
        return new Inputs(input, "ValidationError").requiredString("PolicyArn", 20, 2048, POLICY_ARN);
    }

    private static String name(ObjectNode input, String type) {
        return type.equals("user") ? new Inputs(input, "ValidationError").requiredString("UserName", 1, 64, NAME)
                : new Inputs(input, "ValidationError").requiredString("RoleName", 1, 64, NAME);
    }

    private static String account(RequestContext ctx) {
        return ctx.principal().account().value();
    }

    static String urlEncoded(String document) {
        return URLEncoder.encode(document, StandardCharsets.UTF_8).replace("+", "%20");
    }

    static ObjectNode policyJson(ManagedPolicy p, int boundaryUses) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("PolicyName", p.policyName());
        n.put("PolicyId", p.policyId());
        n.put("Arn", p.arn());
        n.put("Path", p.path());
        n.put("DefaultVersionId", p.defaultVersion());
        n.put("AttachmentCount", p.attachments());
        n.put("PermissionsBoundaryUsageCount", boundaryUses);
        n.put("IsAttachable", true);
        if (!p.description().isEmpty()) {
            n.put("Description", p.description());
        }
        n.put("CreateDate", p.createdAt().truncatedTo(ChronoUnit.SECONDS).toString());
        n.put("UpdateDate", p.updatedAt().truncatedTo(ChronoUnit.SECONDS).toString());
        return n;
    }

    static ObjectNode awsPolicyJson(String arn) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("PolicyName", arn.substring(arn.lastIndexOf('/') + 1));
        n.put("PolicyId", ManagedPolicies.id(arn));
        n.put("Arn", arn);
        n.put("Path", "/");
        n.put("DefaultVersionId", "v1");
        n.put("AttachmentCount", 0);
        n.put("PermissionsBoundaryUsageCount", 0);
        n.put("IsAttachable", true);
        n.put("CreateDate", ManagedPolicies.CREATED.toString());
        n.put("UpdateDate", ManagedPolicies.CREATED.toString());
        return n;
    }
}
