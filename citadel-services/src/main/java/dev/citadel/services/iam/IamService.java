package dev.citadel.services.iam;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import dev.citadel.pipeline.Operation;
import dev.citadel.pipeline.RequestContext;
import dev.citadel.pipeline.spec.OperationSpec;
import dev.citadel.pipeline.spec.ResourceResolver;
import dev.citadel.pipeline.spec.ServiceDefinition;
import dev.citadel.policy.Decision;
import dev.citadel.policy.MalformedPolicyException;
import dev.citadel.policy.Policy;
import dev.citadel.policy.PolicyEvaluator;
import dev.citadel.policy.PolicyParser;
import dev.citadel.policy.RequestFacts;
import dev.citadel.wire.Protocol;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * AWS Identity and Access Management (awsQuery, API version 2010-05-08, a global service). This
 * first part has the policy simulator for custom policies, answered by the same evaluator that
 * enforces every request.
 */
public final class IamService {
    public static final ServiceDefinition DEFINITION = new ServiceDefinition("iam", "iam", "iam", Protocol.AWS_QUERY, "",
            "2010-05-08", "https://iam.amazonaws.com/doc/2010-05-08/", "iam.amazonaws.com", true);
    private static final int MAX_POLICIES = 20;
    private static final int MAX_ACTIONS = 100;
    private static final int MAX_RESOURCES = 100;

    private static final java.util.regex.Pattern NAME = java.util.regex.Pattern.compile("[\\w+=,.@-]+");
    private static final java.util.regex.Pattern PATH = java.util.regex.Pattern.compile("/|/[\\u0021-\\u007E]+/");
    private static final java.util.regex.Pattern KEY_ID = java.util.regex.Pattern.compile("[\\w]+");
    private static final java.util.regex.Pattern POLICY_ARN = java.util.regex.Pattern.compile("arn:[^:]+:iam::[^:]*:policy/.+");
    private static final int MAX_ATTACHED = 10;

    private final dev.citadel.services.accounts.AccountDirectory directory;
    private final PolicyAuthorizer authorizer;
    private final MfaVerifier mfa;

    /** @param authorizer the enforcing authorizer, whose view of a principal's policies the simulator uses */
    public IamService(dev.citadel.services.accounts.AccountDirectory directory, PolicyAuthorizer authorizer, MfaVerifier mfa) {
        this.directory = directory;
        this.authorizer = authorizer;
        this.mfa = mfa;
    }

    public List<Operation> operations() {
        List<Operation> all = new ArrayList<>(own());
        all.addAll(new IamPolicyOperations(directory, authorizer).operations());
        all.addAll(new IamMfaOperations(directory, mfa).operations());
        return List.copyOf(all);
    }

    private List<Operation> own() {
        return List.of(
                Operation.of(OperationSpec.builder("iam", "SimulateCustomPolicy").resources(ResourceResolver.ALL).readOnly()
                        .maxBodyBytes(1 << 20).build(), IamService::simulateCustomPolicy),
                Operation.of(OperationSpec.builder("iam", "SimulatePrincipalPolicy").readOnly().maxBodyBytes(1 << 20)
                        .resources((ctx, input) -> List.of(input.path("PolicySourceArn").asText("*"))).build(), this::simulatePrincipalPolicy),
                Operation.of(spec("CreateUser").conditionKeys(IamPolicyOperations.requestTags()).build(), this::createUser),
                Operation.of(spec("GetUser").readOnly().build(), this::getUser),
                Operation.of(OperationSpec.builder("iam", "ListUsers").resources(pathResource("user")).readOnly().build(), this::listUsers),
                Operation.of(spec("DeleteUser").build(), this::deleteUser),
                Operation.of(spec("CreateAccessKey").sensitive("SecretAccessKey").build(), this::createAccessKey),
                Operation.of(spec("ListAccessKeys").readOnly().build(), this::listAccessKeys),
                Operation.of(spec("UpdateAccessKey").build(), this::updateAccessKey),
                Operation.of(spec("DeleteAccessKey").build(), this::deleteAccessKey),
                Operation.of(spec("AttachUserPolicy").build(), this::attachUserPolicy),
                Operation.of(spec("DetachUserPolicy").build(), this::detachUserPolicy),
                Operation.of(spec("ListAttachedUserPolicies").readOnly().build(), this::listAttachedUserPolicies),
                Operation.of(spec("PutUserPolicy").build(), this::putUserPolicy),
                Operation.of(spec("GetUserPolicy").readOnly().build(), this::getUserPolicy),
                Operation.of(spec("ListUserPolicies").readOnly().build(), this::listUserPolicies),
                Operation.of(spec("DeleteUserPolicy").build(), this::deleteUserPolicy),
                Operation.of(spec("ListGroupsForUser").readOnly().build(), this::listGroupsForUser),
                Operation.of(groupSpec("CreateGroup").build(), this::createGroup),
                Operation.of(OperationSpec.builder("iam", "ListGroups").resources(pathResource("group")).readOnly().build(), this::listGroups),
                Operation.of(groupSpec("GetGroup").readOnly().build(), this::getGroup),
                Operation.of(groupSpec("DeleteGroup").build(), this::deleteGroup),
                Operation.of(groupSpec("AddUserToGroup").build(), this::addUserToGroup),
                Operation.of(groupSpec("RemoveUserFromGroup").build(), this::removeUserFromGroup),
                Operation.of(groupSpec("AttachGroupPolicy").build(), this::attachGroupPolicy),
                Operation.of(groupSpec("DetachGroupPolicy").build(), this::detachGroupPolicy),
                Operation.of(groupSpec("PutGroupPolicy").build(), this::putGroupPolicy),
                Operation.of(groupSpec("DeleteGroupPolicy").build(), this::deleteGroupPolicy),
                Operation.of(roleSpec("CreateRole").conditionKeys(IamPolicyOperations.requestTags()).build(), this::createRole),
                Operation.of(roleSpec("GetRole").readOnly().build(), this::getRole),
                Operation.of(OperationSpec.builder("iam", "ListRoles").resources(pathResource("role")).readOnly().build(), this::listRoles),
                Operation.of(roleSpec("DeleteRole").build(), this::deleteRole),
                Operation.of(roleSpec("UpdateAssumeRolePolicy").build(), this::updateAssumeRolePolicy),
                Operation.of(roleSpec("AttachRolePolicy").build(), this::attachRolePolicy),
                Operation.of(roleSpec("DetachRolePolicy").build(), this::detachRolePolicy),
                Operation.of(roleSpec("PutRolePolicy").build(), this::putRolePolicy),
                Operation.of(roleSpec("DeleteRolePolicy").build(), this::deleteRolePolicy));
    }

    /** A listing's resource, as IAM names it: {@code arn:aws:iam::<account>:user<PathPrefix>} (the prefix defaults to "/"). */
    private static ResourceResolver pathResource(String kind) {
        return (ctx, input) -> List.of("arn:aws:iam::" + ctx.principal().account() + ":" + kind + input.path("PathPrefix").asText("/"));
    }

    /** A user operation's spec: its resource is the user named by UserName (the caller when absent), in the caller's account. */
    private static OperationSpec.Builder spec(String name) {
        return OperationSpec.builder("iam", name).maxBodyBytes(64 * 1024).resources((ctx, input) -> {
            JsonNode user = input.get("UserName");
            String userName = user != null && user.isTextual() ? user.textValue() : ctx.principal().name();
            return List.of("arn:aws:iam::" + ctx.principal().account() + ":user/" + userName);
        });
    }

    /** A group operation's spec: its resource is the group named by GroupName, in the caller's account. */
    private static OperationSpec.Builder groupSpec(String name) {
        return OperationSpec.builder("iam", name).maxBodyBytes(64 * 1024).resources((ctx, input) -> {
            JsonNode group = input.get("GroupName");
            return List.of("arn:aws:iam::" + ctx.principal().account() + ":group/" + (group != null && group.isTextual() ? group.textValue() : ""));
        });
    }

    private static String groupName(ObjectNode input) {
        return new dev.citadel.services.Inputs(input, "ValidationError").requiredString("GroupName", 1, 128, NAME);
    }

    private dev.citadel.metadata.iam.IamGroup requireGroup(RequestContext ctx, String groupName) {
        return directory.store().read(h -> new dev.citadel.metadata.iam.IamRepository(h).group(account(ctx), groupName))
                .orElseThrow(() -> new AwsException("NoSuchEntity", 404, "The group with name " + groupName + " cannot be found."));
    }

    private static ObjectNode groupJson(dev.citadel.metadata.iam.IamGroup g) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("Path", g.path());
        n.put("GroupName", g.groupName());
        n.put("GroupId", g.groupId());
        n.put("Arn", g.arn());
        n.put("CreateDate", g.createdAt().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
        return n;
    }

    /** {@code iam:CreateGroup}. */
    JsonNode createGroup(RequestContext ctx, ObjectNode input) {
        String name = groupName(input);
        String path = new dev.citadel.services.Inputs(input, "ValidationError").optionalString("Path", 1, 512, PATH).orElse("/");
        String account = account(ctx);
        var group = new dev.citadel.metadata.iam.IamGroup(account, name, directory.ids().iamId("AGPA"), path,
                "arn:aws:iam::" + account + ":group" + path + name, directory.now());
        try {
            directory.store().useTransaction(h -> new dev.citadel.metadata.iam.IamRepository(h).insertGroup(group));
        } catch (dev.citadel.metadata.DuplicateKeyException e) {
            throw new AwsException("EntityAlreadyExists", 409, "Group with name " + name + " already exists.");
        }
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.set("Group", groupJson(group));
        return out;
    }

    /** {@code iam:ListGroups}: the account's groups whose path starts with PathPrefix, in name order. */
    JsonNode listGroups(RequestContext ctx, ObjectNode input) {
        String prefix = new dev.citadel.services.Inputs(input, "ValidationError")
                .optionalString("PathPrefix", 1, 512, java.util.regex.Pattern.compile("/[\\u0021-\\u007F]*")).orElse("/");
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode groups = out.putArray("Groups");
        directory.store().read(h -> {
            var iam = new dev.citadel.metadata.iam.IamRepository(h);
            for (String name : h.createQuery("SELECT group_name FROM iam_groups WHERE account_id = :a ORDER BY name_key")
                    .bind("a", account(ctx)).mapTo(String.class).list()) {
                iam.group(account(ctx), name).filter(g -> g.path().startsWith(prefix)).ifPresent(g -> groups.add(groupJson(g)));
            }
            return null;
        });
        out.put("IsTruncated", false);
        return out;
    }

    /** {@code iam:GetGroup}: the group and its users. */
    JsonNode getGroup(RequestContext ctx, ObjectNode input) {
        var group = requireGroup(ctx, groupName(input));
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.set("Group", groupJson(group));
        ArrayNode users = out.putArray("Users");
        directory.store().read(h -> new dev.citadel.metadata.iam.IamRepository(h).groupMembers(account(ctx), group.groupName()))
                .forEach(u -> users.add(userJson(u)));
        out.put("IsTruncated", false);
        return out;
    }

    /** {@code iam:DeleteGroup}: refused while it has members or policies, as IAM does. */
    JsonNode deleteGroup(RequestContext ctx, ObjectNode input) {
        String name = groupName(input);
        String account = account(ctx);
        directory.store().useTransaction(h -> {
            var iam = new dev.citadel.metadata.iam.IamRepository(h);
            if (iam.group(account, name).isEmpty()) {
                throw new AwsException("NoSuchEntity", 404, "The group with name " + name + " cannot be found.");
            }
            if (!iam.groupMembers(account, name).isEmpty()) {
                throw new AwsException("DeleteConflict", 409, "Cannot delete entity, must remove users from group first.");
            }
            if (iam.countAttachedPolicies(account, "group", name) > 0 || !iam.inlinePolicies(account, "group", name).isEmpty()) {
                throw new AwsException("DeleteConflict", 409, "Cannot delete entity, must delete policies first.");
            }
            iam.deleteGroup(account, name);
        });
        return JsonNodeFactory.instance.objectNode();
    }

    /** {@code iam:AddUserToGroup}. */
    JsonNode addUserToGroup(RequestContext ctx, ObjectNode input) {
        var group = requireGroup(ctx, groupName(input));
        var user = requireUser(ctx, userName(input));
        directory.store().useTransaction(h -> new dev.citadel.metadata.iam.IamRepository(h)
                .addUserToGroup(account(ctx), group.groupName(), user.userName()));
        directory.identityChanged();
        return JsonNodeFactory.instance.objectNode();
    }

    /** {@code iam:RemoveUserFromGroup}. */
    JsonNode removeUserFromGroup(RequestContext ctx, ObjectNode input) {
        var group = requireGroup(ctx, groupName(input));
        var user = requireUser(ctx, userName(input));
        boolean removed = directory.store().inTransaction(h -> new dev.citadel.metadata.iam.IamRepository(h)
                .removeUserFromGroup(account(ctx), group.groupName(), user.userName()));
        if (!removed) {
            throw new AwsException("NoSuchEntity", 404, "User " + user.userName() + " is not in group " + group.groupName() + ".");
        }
        directory.identityChanged();
        return JsonNodeFactory.instance.objectNode();
    }

    /** {@code iam:ListGroupsForUser}. */
    JsonNode listGroupsForUser(RequestContext ctx, ObjectNode input) {
        var user = requireUser(ctx, userName(input));
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode groups = out.putArray("Groups");
        directory.store().read(h -> new dev.citadel.metadata.iam.IamRepository(h).groupsForUser(account(ctx), user.userName()))
                .forEach(g -> groups.add(groupJson(g)));
        out.put("IsTruncated", false);
        return out;
    }

    /** {@code iam:AttachGroupPolicy}. */
    JsonNode attachGroupPolicy(RequestContext ctx, ObjectNode input) {
        return attach(ctx, groupHolder(ctx, input), policyArn(input));
    }

    /** {@code iam:DetachGroupPolicy}. */
    JsonNode detachGroupPolicy(RequestContext ctx, ObjectNode input) {
        return detach(ctx, groupHolder(ctx, input), policyArn(input));
    }

    /** {@code iam:PutGroupPolicy}. */
    JsonNode putGroupPolicy(RequestContext ctx, ObjectNode input) {
        return putInline(ctx, groupHolder(ctx, input), input);
    }

    /** {@code iam:DeleteGroupPolicy}. */
    JsonNode deleteGroupPolicy(RequestContext ctx, ObjectNode input) {
        return deleteInline(ctx, groupHolder(ctx, input), policyName(input));
    }

    /** A role operation's spec: its resource is the role named by RoleName, in the caller's account. */
    private static OperationSpec.Builder roleSpec(String name) {
        return OperationSpec.builder("iam", name).maxBodyBytes(64 * 1024).resources((ctx, input) -> {
            JsonNode role = input.get("RoleName");
            return List.of("arn:aws:iam::" + ctx.principal().account() + ":role/" + (role != null && role.isTextual() ? role.textValue() : ""));
        });
    }

    private static String roleName(ObjectNode input) {
        return new dev.citadel.services.Inputs(input, "ValidationError").requiredString("RoleName", 1, 64, NAME);
    }

    private dev.citadel.metadata.iam.IamRole requireRole(RequestContext ctx, String roleName) {
        return directory.store().read(h -> new dev.citadel.metadata.iam.IamRepository(h).role(account(ctx), roleName))
                .orElseThrow(() -> new AwsException("NoSuchEntity", 404, "The role with name " + roleName + " cannot be found."));
    }

    private static ObjectNode roleJson(dev.citadel.metadata.iam.IamRole r) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("Path", r.path());
        n.put("RoleName", r.roleName());
        n.put("RoleId", r.roleId());
        n.put("Arn", r.arn());
        n.put("CreateDate", r.createdAt().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
        n.put("AssumeRolePolicyDocument", java.net.URLEncoder.encode(r.assumeRolePolicyDocument(), java.nio.charset.StandardCharsets.UTF_8)
                .replace("+", "%20"));
        if (!r.description().isEmpty()) {
            n.put("Description", r.description());
        }
        n.put("MaxSessionDuration", r.maxSessionDuration());
        return n;
    }

    /** {@code iam:CreateRole}: the trust policy is validated as IAM validates trust policies. */
    JsonNode createRole(RequestContext ctx, ObjectNode input) {
        dev.citadel.services.Inputs in = new dev.citadel.services.Inputs(input, "ValidationError");
        String name = roleName(input);
        String path = in.optionalString("Path", 1, 512, PATH).orElse("/");
        String trust = in.requiredString("AssumeRolePolicyDocument", 1, 131072, null);
        String description = in.optionalString("Description", 0, 1000, null).orElse("");
        int maxSession = in.optionalInt("MaxSessionDuration", 3600, 43200).orElse(3600);
        parse(trust, PolicyParser.Kind.TRUST);
        Map<String, String> tags = IamPolicyOperations.tags(input);
        String account = account(ctx);
        Optional<String> boundary = boundaryInput(account, in);
        var role = new dev.citadel.metadata.iam.IamRole(account, name, directory.ids().iamId("AROA"), path,
                "arn:aws:iam::" + account + ":role" + path + name, trust, description, maxSession, directory.now());
        try {
            directory.store().useTransaction(h -> {
                new dev.citadel.metadata.iam.IamRepository(h).insertRole(role);
                var extras = new dev.citadel.metadata.iam.IamTagRepository(h);
                extras.tag(account, "role", name, tags);
                if (boundary.isPresent()) {
                    extras.setBoundary(account, "role", name, boundary);
                }
            });
        } catch (dev.citadel.metadata.DuplicateKeyException e) {
            throw new AwsException("EntityAlreadyExists", 409, "Role with name " + name + " already exists.");
        }
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ObjectNode r = roleJson(role);
        boundary.ifPresent(b -> IamPolicyOperations.boundaryJson(r, b));
        if (!tags.isEmpty()) {
            r.set("Tags", IamPolicyOperations.tagList(tags));
        }
        out.set("Role", r);
        return out;
    }

    /** {@code iam:GetRole}. */
    JsonNode getRole(RequestContext ctx, ObjectNode input) {
        var role = requireRole(ctx, roleName(input));
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.set("Role", withExtras(ctx, roleJson(role), "role", role.roleName()));
        return out;
    }

    /** {@code iam:ListRoles}. */
    JsonNode listRoles(RequestContext ctx, ObjectNode input) {
        dev.citadel.services.Inputs in = new dev.citadel.services.Inputs(input, "ValidationError");
        String prefix = in.optionalString("PathPrefix", 1, 512, java.util.regex.Pattern.compile("/[\\u0021-\\u007F]*")).orElse("/");
        int max = in.optionalInt("MaxItems", 1, 1000).orElse(100);
        Optional<String> marker = in.optionalString("Marker", 1, 2048, null);
        dev.citadel.metadata.Page<dev.citadel.metadata.iam.IamRole> page;
        try {
            page = directory.store().read(h -> new dev.citadel.metadata.iam.IamRepository(h).listRoles(account(ctx), prefix, marker, max));
        } catch (IllegalArgumentException e) {
            throw new AwsException("ValidationError", 400, "Invalid Marker.");
        }
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode roles = out.putArray("Roles");
        page.items().forEach(r -> roles.add(roleJson(r)));
        out.put("IsTruncated", page.nextToken().isPresent());
        page.nextToken().ifPresent(t -> out.put("Marker", t));
        return out;
    }

    /** {@code iam:DeleteRole}: refused while policies are attached or inline, as IAM does. */
    JsonNode deleteRole(RequestContext ctx, ObjectNode input) {
        String name = roleName(input);
        String account = account(ctx);
        directory.store().useTransaction(h -> {
            var iam = new dev.citadel.metadata.iam.IamRepository(h);
            if (iam.role(account, name).isEmpty()) {
                throw new AwsException("NoSuchEntity", 404, "The role with name " + name + " cannot be found.");
            }
            if (iam.countAttachedPolicies(account, "role", name) > 0 || !iam.inlinePolicies(account, "role", name).isEmpty()) {
                throw new AwsException("DeleteConflict", 409, "Cannot delete entity, must detach all policies first.");
            }
            new dev.citadel.metadata.iam.IamTagRepository(h).deleteAll(account, "role", name);
            iam.deleteRole(account, name);
        });
        directory.identityChanged();
        return JsonNodeFactory.instance.objectNode();
    }

    /** {@code iam:UpdateAssumeRolePolicy}. */
    JsonNode updateAssumeRolePolicy(RequestContext ctx, ObjectNode input) {
        String name = roleName(input);
        String trust = new dev.citadel.services.Inputs(input, "ValidationError").requiredString("PolicyDocument", 1, 131072, null);
        parse(trust, PolicyParser.Kind.TRUST);
        requireRole(ctx, name);
        directory.store().useTransaction(h -> new dev.citadel.metadata.iam.IamRepository(h).updateAssumeRolePolicy(account(ctx), name, trust));
        return JsonNodeFactory.instance.objectNode();
    }

    /** {@code iam:AttachRolePolicy}. */
    JsonNode attachRolePolicy(RequestContext ctx, ObjectNode input) {
        return attach(ctx, roleHolder(ctx, input), policyArn(input));
    }

    /** {@code iam:DetachRolePolicy}. */
    JsonNode detachRolePolicy(RequestContext ctx, ObjectNode input) {
        return detach(ctx, roleHolder(ctx, input), policyArn(input));
    }

    /** {@code iam:PutRolePolicy}. */
    JsonNode putRolePolicy(RequestContext ctx, ObjectNode input) {
        return putInline(ctx, roleHolder(ctx, input), input);
    }

    /** {@code iam:DeleteRolePolicy}. */
    JsonNode deleteRolePolicy(RequestContext ctx, ObjectNode input) {
        return deleteInline(ctx, roleHolder(ctx, input), policyName(input));
    }

    /** A user, group or role that policies attach to: its kind as stored and its name as created. */
    private record Holder(String type, String name) {
    }

    private Holder userHolder(RequestContext ctx, ObjectNode input) {
        return new Holder("user", requireUser(ctx, userName(input)).userName());
    }

    private Holder groupHolder(RequestContext ctx, ObjectNode input) {
        return new Holder("group", requireGroup(ctx, groupName(input)).groupName());
    }

    private Holder roleHolder(RequestContext ctx, ObjectNode input) {
        return new Holder("role", requireRole(ctx, roleName(input)).roleName());
    }

    /** Attaches an AWS managed policy Citadel provides; at most ten per user, group or role. */
    private JsonNode attach(RequestContext ctx, Holder holder, String arn) {
        String account = account(ctx);
        if (authorizer.managed(account, arn).isEmpty()) {
            throw new AwsException("NoSuchEntity", 404, "Policy " + arn + " does not exist or is not attachable.");
        }
        directory.store().useTransaction(h -> {
            var iam = new dev.citadel.metadata.iam.IamRepository(h);
            if (holder.type().equals("user")) {
                iam.lockUser(account, holder.name());
            }
            if (!iam.attachedPolicies(account, holder.type(), holder.name()).contains(arn)
                    && iam.countAttachedPolicies(account, holder.type(), holder.name()) >= MAX_ATTACHED) {
                throw new AwsException("LimitExceeded", 409, "Cannot exceed quota for PoliciesPer" + Character.toUpperCase(holder.type().charAt(0))
                        + holder.type().substring(1) + ": " + MAX_ATTACHED);
            }
            iam.attachPolicy(account, holder.type(), holder.name(), arn);
        });
        directory.identityChanged();
        return JsonNodeFactory.instance.objectNode();
    }

    private JsonNode detach(RequestContext ctx, Holder holder, String arn) {
        boolean detached = directory.store().inTransaction(h -> new dev.citadel.metadata.iam.IamRepository(h)
                .detachPolicy(account(ctx), holder.type(), holder.name(), arn));
        if (!detached) {
            throw new AwsException("NoSuchEntity", 404, "Policy " + arn + " was not found.");
        }
        directory.identityChanged();
        return JsonNodeFactory.instance.objectNode();
    }

    /** Creates or replaces an inline policy, validated as IAM validates identity policies. */
    private JsonNode putInline(RequestContext ctx, Holder holder, ObjectNode input) {
        String policyName = policyName(input);
        String document = new dev.citadel.services.Inputs(input, "ValidationError").requiredString("PolicyDocument", 1, 131072, null);
        parse(document, PolicyParser.Kind.IDENTITY);
        directory.store().useTransaction(h -> new dev.citadel.metadata.iam.IamRepository(h)
                .putInlinePolicy(account(ctx), holder.type(), holder.name(), policyName, document));
        directory.identityChanged();
        return JsonNodeFactory.instance.objectNode();
    }

    private JsonNode deleteInline(RequestContext ctx, Holder holder, String policyName) {
        boolean deleted = directory.store().inTransaction(h -> new dev.citadel.metadata.iam.IamRepository(h)
                .deleteInlinePolicy(account(ctx), holder.type(), holder.name(), policyName));
        if (!deleted) {
            throw new AwsException("NoSuchEntity", 404, "The " + holder.type() + " policy with name " + policyName + " cannot be found.");
        }
        directory.identityChanged();
        return JsonNodeFactory.instance.objectNode();
    }

    /** The PermissionsBoundary of a CreateUser or CreateRole: an existing managed policy. */
    private Optional<String> boundaryInput(String account, dev.citadel.services.Inputs in) {
        Optional<String> arn = in.optionalString("PermissionsBoundary", 20, 2048, POLICY_ARN);
        if (arn.isPresent() && authorizer.managed(account, arn.get()).isEmpty()) {
            throw new AwsException("NoSuchEntity", 404, "Scope ARN: " + arn.get() + " does not exist or is not attachable.");
        }
        return arn;
    }

    /** Adds the permissions boundary and tags of a user or role to its description. */
    private ObjectNode withExtras(RequestContext ctx, ObjectNode n, String type, String name) {
        directory.store().read(h -> new dev.citadel.metadata.iam.IamTagRepository(h).boundary(account(ctx), type, name))
                .ifPresent(b -> IamPolicyOperations.boundaryJson(n, b));
        Map<String, String> tags = directory.tags(account(ctx), type, name);
        if (!tags.isEmpty()) {
            n.set("Tags", IamPolicyOperations.tagList(tags));
        }
        return n;
    }

    private String account(RequestContext ctx) {
        return ctx.principal().account().value();
    }

    private dev.citadel.metadata.iam.IamUser requireUser(RequestContext ctx, String userName) {
        return directory.store().read(h -> new dev.citadel.metadata.iam.IamRepository(h).user(account(ctx), userName))
                .orElseThrow(() -> noSuchUser(userName));
    }

    private static AwsException noSuchUser(String userName) {
        return new AwsException("NoSuchEntity", 404, "The user with name " + userName + " cannot be found.");
    }

    private static String userName(ObjectNode input) {
        return new dev.citadel.services.Inputs(input, "ValidationError").requiredString("UserName", 1, 64, NAME);
    }

    private static ObjectNode userJson(dev.citadel.metadata.iam.IamUser u) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("Path", u.path());
        n.put("UserName", u.userName());
        n.put("UserId", u.userId());
        n.put("Arn", u.arn());
        n.put("CreateDate", u.createdAt().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
        return n;
    }

    /** {@code iam:CreateUser}. */
    JsonNode createUser(RequestContext ctx, ObjectNode input) {
        String name = userName(input);
        dev.citadel.services.Inputs in = new dev.citadel.services.Inputs(input, "ValidationError");
        String path = in.optionalString("Path", 1, 512, PATH).orElse("/");
        Map<String, String> tags = IamPolicyOperations.tags(input);
        String account = account(ctx);
        Optional<String> boundary = boundaryInput(account, in);
        dev.citadel.metadata.iam.IamUser user = new dev.citadel.metadata.iam.IamUser(account, name, directory.ids().iamId("AIDA"), path,
                "arn:aws:iam::" + account + ":user" + path + name, directory.now());
        try {
            directory.store().useTransaction(h -> {
                new dev.citadel.metadata.iam.IamRepository(h).insertUser(user);
                var extras = new dev.citadel.metadata.iam.IamTagRepository(h);
                extras.tag(account, "user", name, tags);
                if (boundary.isPresent()) {
                    extras.setBoundary(account, "user", name, boundary);
                }
            });
        } catch (dev.citadel.metadata.DuplicateKeyException e) {
            throw new AwsException("EntityAlreadyExists", 409, "User with name " + name + " already exists.");
        }
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ObjectNode u = userJson(user);
        boundary.ifPresent(b -> IamPolicyOperations.boundaryJson(u, b));
        if (!tags.isEmpty()) {
            u.set("Tags", IamPolicyOperations.tagList(tags));
        }
        out.set("User", u);
        return out;
    }

    /** {@code iam:GetUser}: the named user, or the caller when no name is given. */
    JsonNode getUser(RequestContext ctx, ObjectNode input) {
        String name = input.has("UserName") ? userName(input) : ctx.principal().name();
        var user = requireUser(ctx, name);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.set("User", withExtras(ctx, userJson(user), "user", user.userName()));
        return out;
    }

    /** {@code iam:ListUsers}. */
    JsonNode listUsers(RequestContext ctx, ObjectNode input) {
        dev.citadel.services.Inputs in = new dev.citadel.services.Inputs(input, "ValidationError");
        String prefix = in.optionalString("PathPrefix", 1, 512, java.util.regex.Pattern.compile("/[\\u0021-\\u007F]*")).orElse("/");
        int max = in.optionalInt("MaxItems", 1, 1000).orElse(100);
        Optional<String> marker = in.optionalString("Marker", 1, 2048, null);
        dev.citadel.metadata.Page<dev.citadel.metadata.iam.IamUser> page;
        try {
            page = directory.store().read(h -> new dev.citadel.metadata.iam.IamRepository(h).listUsers(account(ctx), prefix, marker, max));
        } catch (IllegalArgumentException e) {
            throw new AwsException("ValidationError", 400, "Invalid Marker.");
        }
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode users = out.putArray("Users");
        page.items().forEach(u -> users.add(userJson(u)));
        out.put("IsTruncated", page.nextToken().isPresent());
        page.nextToken().ifPresent(t -> out.put("Marker", t));
        return out;
    }

    /** {@code iam:DeleteUser}: refused while the user still has access keys or attached policies, as IAM does. */
    JsonNode deleteUser(RequestContext ctx, ObjectNode input) {
        String name = userName(input);
        String account = account(ctx);
        directory.store().useTransaction(h -> {
            var iam = new dev.citadel.metadata.iam.IamRepository(h);
            if (iam.user(account, name).isEmpty()) {
                throw noSuchUser(name);
            }
            if (iam.countAccessKeys(account, name) > 0) {
                throw new AwsException("DeleteConflict", 409, "Cannot delete entity, must delete access keys first.");
            }
            if (iam.countAttachedPolicies(account, "user", name) > 0) {
                throw new AwsException("DeleteConflict", 409, "Cannot delete entity, must detach all policies first.");
            }
            if (!iam.inlinePolicies(account, "user", name).isEmpty()) {
                throw new AwsException("DeleteConflict", 409, "Cannot delete entity, must delete policies first.");
            }
            if (!iam.groupsForUser(account, name).isEmpty()) {
                throw new AwsException("DeleteConflict", 409, "Cannot delete entity, must remove from all groups first.");
            }
            if (!new dev.citadel.metadata.iam.MfaDeviceRepository(h).devicesOfUser(account, name).isEmpty()) {
                throw new AwsException("DeleteConflict", 409, "Cannot delete entity, must remove MFA device first.");
            }
            new dev.citadel.metadata.iam.IamTagRepository(h).deleteAll(account, "user", name);
            iam.deleteUser(account, name);
        });
        directory.identityChanged();
        return JsonNodeFactory.instance.objectNode();
    }

    /** {@code iam:CreateAccessKey}: the secret is in this response only; it is stored sealed. */
    JsonNode createAccessKey(RequestContext ctx, ObjectNode input) {
        String name = input.has("UserName") ? userName(input) : ctx.principal().name();
        dev.citadel.metadata.iam.IamUser user = requireUser(ctx, name);
        var key = directory.createAccessKey(account(ctx), user.userName());
        ObjectNode k = JsonNodeFactory.instance.objectNode();
        k.put("UserName", user.userName());
        k.put("AccessKeyId", key.accessKeyId());
        k.put("Status", "Active");
        k.put("SecretAccessKey", key.secretAccessKey().revealUtf8());
        k.put("CreateDate", directory.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.set("AccessKey", k);
        return out;
    }

    /** {@code iam:ListAccessKeys}. */
    JsonNode listAccessKeys(RequestContext ctx, ObjectNode input) {
        String name = input.has("UserName") ? userName(input) : ctx.principal().name();
        dev.citadel.metadata.iam.IamUser user = requireUser(ctx, name);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode keys = out.putArray("AccessKeyMetadata");
        for (var k : directory.store().read(h -> new dev.citadel.metadata.iam.IamRepository(h).accessKeys(account(ctx), user.userName()))) {
            ObjectNode n = keys.addObject();
            n.put("UserName", user.userName());
            n.put("AccessKeyId", k.accessKeyId());
            n.put("Status", k.status());
            n.put("CreateDate", k.createdAt().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
        }
        out.put("IsTruncated", false);
        return out;
    }

    /** {@code iam:UpdateAccessKey}: Active or Inactive; an inactive key stops authenticating at once. */
    JsonNode updateAccessKey(RequestContext ctx, ObjectNode input) {
        dev.citadel.services.Inputs in = new dev.citadel.services.Inputs(input, "ValidationError");
        String keyId = in.requiredString("AccessKeyId", 16, 128, KEY_ID);
        String status = in.requiredString("Status", 6, 8, java.util.regex.Pattern.compile("Active|Inactive"));
        String name = input.has("UserName") ? userName(input) : ctx.principal().name();
        requireUser(ctx, name);
        boolean changed = directory.store().inTransaction(h ->
                new dev.citadel.metadata.iam.IamRepository(h).updateAccessKeyStatus(account(ctx), name, keyId, status));
        if (!changed) {
            throw new AwsException("NoSuchEntity", 404, "The Access Key with id " + keyId + " cannot be found.");
        }
        directory.identityChanged();
        return JsonNodeFactory.instance.objectNode();
    }

    /** {@code iam:DeleteAccessKey}: the key stops authenticating at once. */
    JsonNode deleteAccessKey(RequestContext ctx, ObjectNode input) {
        String keyId = new dev.citadel.services.Inputs(input, "ValidationError").requiredString("AccessKeyId", 16, 128, KEY_ID);
        String name = input.has("UserName") ? userName(input) : ctx.principal().name();
        requireUser(ctx, name);
        boolean deleted = directory.store().inTransaction(h ->
                new dev.citadel.metadata.iam.IamRepository(h).deleteAccessKey(account(ctx), name, keyId));
        if (!deleted) {
            throw new AwsException("NoSuchEntity", 404, "The Access Key with id " + keyId + " cannot be found.");
        }
        directory.identityChanged();
        return JsonNodeFactory.instance.objectNode();
    }

    private static String policyArn(ObjectNode input) {
        return new dev.citadel.services.Inputs(input, "ValidationError").requiredString("PolicyArn", 20, 2048, POLICY_ARN);
    }

    /** {@code iam:AttachUserPolicy}: AWS managed policies Citadel provides; at most ten per user. */
    JsonNode attachUserPolicy(RequestContext ctx, ObjectNode input) {
        return attach(ctx, userHolder(ctx, input), policyArn(input));
    }

    /** {@code iam:DetachUserPolicy}. */
    JsonNode detachUserPolicy(RequestContext ctx, ObjectNode input) {
        return detach(ctx, userHolder(ctx, input), policyArn(input));
    }

    private static final java.util.regex.Pattern POLICY_NAME = java.util.regex.Pattern.compile("[\\w+=,.@-]+");

    private static String policyName(ObjectNode input) {
        return new dev.citadel.services.Inputs(input, "ValidationError").requiredString("PolicyName", 1, 128, POLICY_NAME);
    }

    /** {@code iam:PutUserPolicy}: creates or replaces an inline policy, validated as IAM validates it. */
    JsonNode putUserPolicy(RequestContext ctx, ObjectNode input) {
        return putInline(ctx, userHolder(ctx, input), input);
    }

    /** {@code iam:GetUserPolicy}: the document comes back URL-encoded, as IAM returns it. */
    JsonNode getUserPolicy(RequestContext ctx, ObjectNode input) {
        String name = userName(input);
        String policyName = policyName(input);
        dev.citadel.metadata.iam.IamUser user = requireUser(ctx, name);
        String document = directory.store().read(h -> new dev.citadel.metadata.iam.IamRepository(h)
                .inlinePolicy(account(ctx), "user", name, policyName))
                .orElseThrow(() -> new AwsException("NoSuchEntity", 404, "The user policy with name " + policyName + " cannot be found."));
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("UserName", user.userName());
        out.put("PolicyName", policyName);
        out.put("PolicyDocument", java.net.URLEncoder.encode(document, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20"));
        return out;
    }

    /** {@code iam:ListUserPolicies}: the names of the user's inline policies. */
    JsonNode listUserPolicies(RequestContext ctx, ObjectNode input) {
        String name = userName(input);
        requireUser(ctx, name);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode names = out.putArray("PolicyNames");
        directory.store().read(h -> new dev.citadel.metadata.iam.IamRepository(h).inlinePolicies(account(ctx), "user", name))
                .keySet().forEach(names::add);
        out.put("IsTruncated", false);
        return out;
    }

    /** {@code iam:DeleteUserPolicy}. */
    JsonNode deleteUserPolicy(RequestContext ctx, ObjectNode input) {
        return deleteInline(ctx, userHolder(ctx, input), policyName(input));
    }

    /** {@code iam:ListAttachedUserPolicies}. */
    JsonNode listAttachedUserPolicies(RequestContext ctx, ObjectNode input) {
        String name = userName(input);
        requireUser(ctx, name);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode list = out.putArray("AttachedPolicies");
        for (String arn : directory.store().read(h -> new dev.citadel.metadata.iam.IamRepository(h).attachedPolicies(account(ctx), "user", name))) {
            ObjectNode p = list.addObject();
            p.put("PolicyName", arn.substring(arn.lastIndexOf('/') + 1));
            p.put("PolicyArn", arn);
        }
        out.put("IsTruncated", false);
        return out;
    }

    /**
     * {@code iam:SimulateCustomPolicy}: the decision for each action and resource under the given
     * identity policies (and optional permissions boundaries, resource policy and context entries).
     */
    static JsonNode simulateCustomPolicy(RequestContext ctx, ObjectNode input) {
        List<String> documents = strings(input, "PolicyInputList", MAX_POLICIES, true);
        List<String> boundaries = strings(input, "PermissionsBoundaryPolicyInputList", MAX_POLICIES, false);
        List<String> actions = strings(input, "ActionNames", MAX_ACTIONS, true);
        List<String> resources = strings(input, "ResourceArns", MAX_RESOURCES, false);
        List<PolicyEvaluator.Source> identity = new ArrayList<>();
        for (int i = 0; i < documents.size(); i++) {
            identity.add(new PolicyEvaluator.Source("PolicyInputList." + (i + 1), parse(documents.get(i), PolicyParser.Kind.IDENTITY)));
        }
        Optional<PolicyEvaluator.Source> boundary = Optional.empty();
        if (!boundaries.isEmpty()) {
            boundary = Optional.of(new PolicyEvaluator.Source("PermissionsBoundaryPolicyInputList.1", parse(boundaries.getFirst(),
                    PolicyParser.Kind.IDENTITY)));
        }
        Optional<PolicyEvaluator.Source> resourcePolicy = text(input, "ResourcePolicy")
                .map(doc -> new PolicyEvaluator.Source("ResourcePolicy", parse(doc, PolicyParser.Kind.RESOURCE)));
        String caller = text(input, "CallerArn").orElse(ctx.principal().arn());
        String callerAccount = caller.split(":").length > 4 ? caller.split(":")[4] : ctx.principal().account().value();
        String resourceOwner = text(input, "ResourceOwner").map(o -> o.split(":").length > 4 ? o.split(":")[4] : o).orElse("");
        Map<String, List<String>> context = contextEntries(input);

        return evaluationResults(identity, actions, resources, caller, callerAccount, resourcePolicy, resourceOwner, boundary, context);
    }

    /** The EvaluationResults of the simulator: one decision per action and resource, with the statements that decided it. */
    private static JsonNode evaluationResults(List<PolicyEvaluator.Source> identity, List<String> actions, List<String> resourceList,
            String caller, String callerAccount, Optional<PolicyEvaluator.Source> resourcePolicy, String resourceOwner,
            Optional<PolicyEvaluator.Source> boundary, Map<String, List<String>> context) {
        List<String> resources = resourceList.isEmpty() ? List.of("*") : resourceList;
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode results = out.putArray("EvaluationResults");
        for (String action : actions) {
            for (String resource : resources) {
                RequestFacts facts = new RequestFacts(action, resource, caller, callerAccount, "", context);
                Decision d = PolicyEvaluator.evaluate(new PolicyEvaluator.Input(facts, identity, resourcePolicy,
                        resourceOwner, boundary, List.of(), List.of()));
                ObjectNode r = results.addObject();
                r.put("EvalActionName", action);
                r.put("EvalResourceName", resource);
                r.put("EvalDecision", switch (d.outcome()) {
                    case ALLOWED -> "allowed";
                    case EXPLICIT_DENY -> "explicitDeny";
                    case IMPLICIT_DENY -> "implicitDeny";
                });
                ArrayNode matched = r.putArray("MatchedStatements");
                for (Decision.MatchedStatement m : d.matched()) {
                    ObjectNode s = matched.addObject();
                    s.put("SourcePolicyId", m.source());
                    s.put("SourcePolicyType", m.source().startsWith("ResourcePolicy") ? "resource" : "IAM Policy");
                }
                r.putArray("MissingContextValues");
            }
        }
        out.put("IsTruncated", false);
        return out;
    }

    /**
     * {@code iam:SimulatePrincipalPolicy}: the decisions for a user or role of this account, from
     * exactly the policies enforcement evaluates for it (attached, inline, a user's groups', the
     * permissions boundary), plus any extra PolicyInputList documents.
     */
    JsonNode simulatePrincipalPolicy(RequestContext ctx, ObjectNode input) {
        String source = new dev.citadel.services.Inputs(input, "ValidationError").requiredString("PolicySourceArn", 20, 2048, null);
        String account = account(ctx);
        dev.citadel.pipeline.Principal principal;
        Map<String, List<String>> context = contextEntries(input);
        if (source.startsWith("arn:aws:iam::" + account + ":user/")) {
            var user = directory.userByArn(source)
                    .orElseThrow(() -> new AwsException("NoSuchEntity", 404, "The user with ARN " + source + " cannot be found."));
            principal = new dev.citadel.pipeline.Principal("IAMUser", ctx.principal().account(), user.userId(), user.arn(), user.userName(),
                    "simulated", directory.tags(account, "user", user.userName()), Optional.empty());
            context.putIfAbsent("aws:username", List.of(user.userName()));
        } else if (source.startsWith("arn:aws:iam::" + account + ":role/")) {
            var role = directory.roleByArn(source)
                    .orElseThrow(() -> new AwsException("NoSuchEntity", 404, "The role with ARN " + source + " cannot be found."));
            // The role's own policies, as a session of it would have them (without session policies).
            principal = new dev.citadel.pipeline.Principal("AssumedRole", ctx.principal().account(), role.roleId() + ":simulated",
                    "arn:aws:sts::" + account + ":assumed-role/" + role.roleName() + "/simulated", role.roleName(), "simulated",
                    directory.tags(account, "role", role.roleName()), Optional.of(new dev.citadel.pipeline.Principal.Session(role.arn(),
                            "simulated", directory.now(), directory.now(), Optional.empty(), List.of(), List.of(), Optional.empty(), false)));
        } else {
            throw new AwsException("InvalidInput", 400, "PolicySourceArn must name a user or role of this account: arn:aws:iam::"
                    + account + ":user/<path><name> or arn:aws:iam::" + account + ":role/<path><name>.");
        }
        List<PolicyEvaluator.Source> identity = new ArrayList<>(authorizer.identityPolicies(principal));
        List<String> extra = strings(input, "PolicyInputList", MAX_POLICIES, false);
        for (int i = 0; i < extra.size(); i++) {
            identity.add(new PolicyEvaluator.Source("PolicyInputList." + (i + 1), parse(extra.get(i), PolicyParser.Kind.IDENTITY)));
        }
        context.putIfAbsent("aws:userid", List.of(principal.principalId()));
        context.putIfAbsent("aws:PrincipalArn", List.of(principal.isRoleSession() ? source : principal.arn()));
        context.putIfAbsent("aws:PrincipalAccount", List.of(account));
        principal.tags().forEach((k, v) -> context.putIfAbsent("aws:PrincipalTag/" + k, List.of(v)));
        return evaluationResults(identity, strings(input, "ActionNames", MAX_ACTIONS, true), strings(input, "ResourceArns", MAX_RESOURCES, false),
                principal.arn(), account, Optional.empty(), "", authorizer.boundary(principal), context);
    }

    private static Policy parse(String document, PolicyParser.Kind kind) {
        try {
            return PolicyParser.parse(document, kind);
        } catch (MalformedPolicyException e) {
            throw new AwsException("MalformedPolicyDocument", 400, e.getMessage());
        }
    }

    private static Map<String, List<String>> contextEntries(ObjectNode input) {
        Map<String, List<String>> out = new HashMap<>();
        JsonNode entries = input.get("ContextEntries");
        if (entries == null) {
            return out;
        }
        if (!entries.isArray() || entries.size() > 100) {
            throw new AwsException("InvalidInput", 400, "ContextEntries must be a list of at most 100 entries.");
        }
        for (JsonNode e : entries) {
            String name = e.path("ContextKeyName").asText("");
            if (name.isEmpty() || name.length() > 256) {
                throw new AwsException("InvalidInput", 400, "Each context entry needs a ContextKeyName of 5 to 256 characters.");
            }
            List<String> values = new ArrayList<>();
            JsonNode v = e.get("ContextKeyValues");
            if (v != null && v.isArray()) {
                v.forEach(x -> values.add(x.asText()));
            }
            out.put(name, values);
        }
        return out;
    }

    private static Optional<String> text(ObjectNode input, String member) {
        JsonNode n = input.get(member);
        return n == null || !n.isTextual() || n.asText().isEmpty() ? Optional.empty() : Optional.of(n.asText());
    }

    private static List<String> strings(ObjectNode input, String member, int max, boolean required) {
        JsonNode n = input.get(member);
        List<String> out = new ArrayList<>();
        if (n == null || (n.isTextual() && n.asText().isEmpty())) {
            if (required) {
                throw new AwsException("ValidationError", 400,
                        "1 validation error detected: Value null at '" + Character.toLowerCase(member.charAt(0)) + member.substring(1)
                        + "' failed to satisfy constraint: Member must not be null");
            }
            return out;
        }
        if (!n.isArray()) {
            throw new AwsException("ValidationError", 400, member + " must be a list.");
        }
        if (n.size() > max) {
            throw new AwsException("ValidationError", 400, member + " may hold at most " + max + " members.");
        }
        n.forEach(x -> out.add(x.asText()));
        return out;
    }
}
