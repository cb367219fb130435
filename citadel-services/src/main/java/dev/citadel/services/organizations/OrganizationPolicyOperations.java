package dev.citadel.services.organizations;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import dev.citadel.metadata.DuplicateKeyException;
import dev.citadel.metadata.accounts.Organization;
import dev.citadel.metadata.accounts.OrganizationPolicyRepository;
import dev.citadel.metadata.accounts.OrganizationPolicyRepository.OrgPolicy;
import dev.citadel.pipeline.Operation;
import dev.citadel.pipeline.RequestContext;
import dev.citadel.policy.MalformedPolicyException;
import dev.citadel.policy.PolicyParser;
import dev.citadel.services.Inputs;
import dev.citadel.services.accounts.AccountDirectory;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Organizations service control policies: the root and its policy types, policies, and their
 * attachment to the root or to accounts. Enabling SCPs attaches the AWS managed
 * {@code FullAWSAccess} to the root and every account, as Organizations does, so that nothing is
 * denied until a customer policy is attached and FullAWSAccess detached (or a Deny attached).
 * Only the management account may call these; SCPs never restrict it.
 */
final class OrganizationPolicyOperations {
    private static final String SCP = OrganizationPolicyRepository.SCP;
    private static final Pattern POLICY_ID = Pattern.compile("p-[0-9a-zA-Z_]{8,128}");
    private static final Pattern TARGET_ID = Pattern.compile("(r-[0-9a-z]{4,32})|(\\d{12})|(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})");
    private static final Pattern POLICY_NAME = Pattern.compile("[\\s\\S]*");
    private static final int MAX_CONTENT = 5120;
    private static final String INVALID = OrganizationsService.INVALID_INPUT;

    private final AccountDirectory accounts;

    OrganizationPolicyOperations(AccountDirectory accounts) {
        this.accounts = accounts;
    }

    List<Operation> operations() {
        return List.of(
                op("ListRoots", true, this::listRoots),
                op("EnablePolicyType", false, this::enablePolicyType),
                op("DisablePolicyType", false, this::disablePolicyType),
                op("CreatePolicy", false, this::createPolicy),
                op("DescribePolicy", true, this::describePolicy),
                op("UpdatePolicy", false, this::updatePolicy),
                op("DeletePolicy", false, this::deletePolicy),
                op("ListPolicies", true, this::listPolicies),
                op("AttachPolicy", false, this::attachPolicy),
                op("DetachPolicy", false, this::detachPolicy),
                op("ListPoliciesForTarget", true, this::listPoliciesForTarget),
                op("ListTargetsForPolicy", true, this::listTargetsForPolicy));
    }

    private static Operation op(String name, boolean readOnly, Operation.Handler handler) {
        return OrganizationsService.managementOperation(name, readOnly, handler);
    }

    private Organization org(RequestContext ctx) {
        return OrganizationsService.requireManagementCaller(accounts, ctx);
    }

    JsonNode listRoots(RequestContext ctx, ObjectNode input) {
        Organization org = org(ctx);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.putArray("Roots").add(rootJson(org));
        return out;
    }

    private ObjectNode rootJson(Organization org) {
        String root = AccountDirectory.rootId(org);
        ObjectNode r = JsonNodeFactory.instance.objectNode();
        r.put("Id", root);
        r.put("Arn", "arn:aws:organizations::" + org.managementAccountId() + ":root/" + org.id() + "/" + root);
        r.put("Name", "Root");
        ArrayNode types = r.putArray("PolicyTypes");
        if (accounts.store().read(h -> new OrganizationPolicyRepository(h).typeEnabled(root, SCP))) {
            types.addObject().put("Type", SCP).put("Status", "ENABLED");
        }
        return r;
    }

    private static String policyType(Inputs in, String member) {
        String type = in.requiredString(member, 1, 64, null);
        if (!type.equals(SCP)) {
            throw new AwsException(INVALID, 400, "You specified an invalid value for " + member + ": Citadel supports "
                    + SCP + " only.");
        }
        return type;
    }

    private String requireRoot(Organization org, Inputs in) {
        String root = in.requiredString("RootId", 3, 34, Pattern.compile("r-[0-9a-z]{4,32}"));
        if (!root.equals(AccountDirectory.rootId(org))) {
            throw new AwsException("RootNotFoundException", 400, "We can't find a root with the RootId that you specified.");
        }
        return root;
    }

    JsonNode enablePolicyType(RequestContext ctx, ObjectNode input) {
        return changePolicyType(ctx, input, (h, repo, root) -> {
            if (!repo.enableType(root, SCP)) {
                throw new AwsException("PolicyTypeAlreadyEnabledException", 400, "The specified policy type is already enabled.");
            }
            if (repo.policy(OrganizationPolicyRepository.FULL_AWS_ACCESS_ID).isEmpty()) {
                repo.insert(new OrgPolicy(OrganizationPolicyRepository.FULL_AWS_ACCESS_ID,
                        "arn:aws:organizations::aws:policy/service_control_policy/" + OrganizationPolicyRepository.FULL_AWS_ACCESS_ID,
                        SCP, "FullAWSAccess", "Allows access to every operation", true, OrganizationPolicyRepository.FULL_AWS_ACCESS_CONTENT));
            }
            repo.attach(OrganizationPolicyRepository.FULL_AWS_ACCESS_ID, root);
            for (String account : allAccountIds(h)) {
                repo.attach(OrganizationPolicyRepository.FULL_AWS_ACCESS_ID, account);
            }
            for (var unit : new dev.citadel.metadata.accounts.OrganizationUnitRepository(h).all()) {
                repo.attach(OrganizationPolicyRepository.FULL_AWS_ACCESS_ID, unit.id());
            }
        });
    }

    JsonNode disablePolicyType(RequestContext ctx, ObjectNode input) {
        return changePolicyType(ctx, input, (h, repo, root) -> {
            if (!repo.disableType(root, SCP)) {
                throw new AwsException("PolicyTypeNotEnabledException", 400, "This operation can be performed only for enabled policy types.");
            }
            repo.detachAll(SCP);
        });
    }

    private interface TypeChange {
        void apply(org.jdbi.v3.core.Handle h, OrganizationPolicyRepository repo, String root);
    }

    /** Enable/DisablePolicyType: the root and type checked, the change in one transaction, caches told, the root answered. */
    private JsonNode changePolicyType(RequestContext ctx, ObjectNode input, TypeChange change) {
        Organization org = org(ctx);
        Inputs in = new Inputs(input, INVALID);
        String root = requireRoot(org, in);
        policyType(in, "PolicyType");
        accounts.store().useTransaction(h -> change.apply(h, new OrganizationPolicyRepository(h), root));
        accounts.identityChanged();
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.set("Root", rootJson(org));
        return out;
    }

    JsonNode createPolicy(RequestContext ctx, ObjectNode input) {
        Organization org = org(ctx);
        Inputs in = new Inputs(input, INVALID);
        String content = in.requiredString("Content", 1, 1_000_000, null);
        String description = in.requiredString("Description", 0, 512, null);
        String name = in.requiredString("Name", 1, 128, POLICY_NAME);
        policyType(in, "Type");
        checkContent(content);
        String id = "p-" + accounts.ids().lowerAlnum(8);
        OrgPolicy policy = new OrgPolicy(id, "arn:aws:organizations::" + org.managementAccountId() + ":policy/" + org.id()
                + "/service_control_policy/" + id, SCP, name, description, false, content);
        try {
            accounts.store().useTransaction(h -> new OrganizationPolicyRepository(h).insert(policy));
        } catch (DuplicateKeyException e) {
            throw new AwsException("DuplicatePolicyException", 400, "A policy with the same name already exists.");
        }
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.set("Policy", policyJson(policy));
        return out;
    }

    JsonNode describePolicy(RequestContext ctx, ObjectNode input) {
        org(ctx);
        OrgPolicy p = requirePolicy(input);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.set("Policy", policyJson(p));
        return out;
    }

    JsonNode updatePolicy(RequestContext ctx, ObjectNode input) {
        org(ctx);
        Inputs in = new Inputs(input, INVALID);
        OrgPolicy p = requirePolicy(input);
        if (p.awsManaged()) {
            throw new AwsException("PolicyChangesInProgressException", 400, "You can't change an AWS managed policy.");
        }
        String name = in.optionalString("Name", 1, 128, POLICY_NAME).orElse(p.name());
        String description = in.optionalString("Description", 0, 512, null).orElse(p.description());
        String content = in.optionalString("Content", 1, 1_000_000, null).orElse(p.content());
        checkContent(content);
        try {
            accounts.store().useTransaction(h -> new OrganizationPolicyRepository(h).update(p.id(), name, description, content));
        } catch (DuplicateKeyException e) {
            throw new AwsException("DuplicatePolicyException", 400, "A policy with the same name already exists.");
        }
        accounts.identityChanged();
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.set("Policy", policyJson(new OrgPolicy(p.id(), p.arn(), p.type(), name, description, false, content)));
        return out;
    }

    JsonNode deletePolicy(RequestContext ctx, ObjectNode input) {
        org(ctx);
        OrgPolicy p = requirePolicy(input);
        accounts.store().useTransaction(h -> {
            OrganizationPolicyRepository repo = new OrganizationPolicyRepository(h);
            if (!repo.targets(p.id()).isEmpty()) {
                throw new AwsException("PolicyInUseException", 400, "The policy is attached to one or more entities. You must detach it "
                        + "from all roots, OUs, and accounts before performing this operation.");
            }
            if (!repo.delete(p.id())) {
                throw new AwsException("AccessDeniedException", 400, "You can't delete an AWS managed policy.");
            }
        });
        return JsonNodeFactory.instance.objectNode();
    }

    JsonNode listPolicies(RequestContext ctx, ObjectNode input) {
        org(ctx);
        policyType(new Inputs(input, INVALID), "Filter");
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode list = out.putArray("Policies");
        accounts.store().read(h -> new OrganizationPolicyRepository(h).policies(SCP)).forEach(p -> list.add(summary(p)));
        return out;
    }

    JsonNode attachPolicy(RequestContext ctx, ObjectNode input) {
        Organization org = org(ctx);
        OrgPolicy p = requirePolicy(input);
        String target = requireTarget(org, new Inputs(input, INVALID));
        accounts.store().useTransaction(h -> {
            OrganizationPolicyRepository repo = new OrganizationPolicyRepository(h);
            if (!repo.typeEnabled(AccountDirectory.rootId(org), SCP)) {
                throw new AwsException("PolicyTypeNotEnabledException", 400, "This operation can be performed only for enabled policy types.");
            }
            if (!repo.attach(p.id(), target)) {
                throw new AwsException("DuplicatePolicyAttachmentException", 400, "The selected policy is already attached to the specified target.");
            }
        });
        accounts.identityChanged();
        return JsonNodeFactory.instance.objectNode();
    }

    JsonNode detachPolicy(RequestContext ctx, ObjectNode input) {
        Organization org = org(ctx);
        OrgPolicy p = requirePolicy(input);
        String target = requireTarget(org, new Inputs(input, INVALID));
        accounts.store().useTransaction(h -> {
            OrganizationPolicyRepository repo = new OrganizationPolicyRepository(h);
            if (!repo.detach(p.id(), target)) {
                throw new AwsException("PolicyNotAttachedException", 400, "The policy isn't attached to the specified target in the specified root.");
            }
            if (repo.attachedTo(target).isEmpty()) {
                throw new AwsException("ConstraintViolationException", 400, "You attempted to detach the last service control policy from "
                        + target + ". Every root and account must have at least one SCP attached.");
            }
        });
        accounts.identityChanged();
        return JsonNodeFactory.instance.objectNode();
    }

    JsonNode listPoliciesForTarget(RequestContext ctx, ObjectNode input) {
        Organization org = org(ctx);
        Inputs in = new Inputs(input, INVALID);
        String target = requireTarget(org, in);
        policyType(in, "Filter");
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode list = out.putArray("Policies");
        accounts.store().read(h -> new OrganizationPolicyRepository(h).attachedTo(target)).forEach(p -> list.add(summary(p)));
        return out;
    }

    JsonNode listTargetsForPolicy(RequestContext ctx, ObjectNode input) {
        Organization org = org(ctx);
        OrgPolicy p = requirePolicy(input);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode list = out.putArray("Targets");
        for (String target : accounts.store().read(h -> new OrganizationPolicyRepository(h).targets(p.id()))) {
            ObjectNode t = list.addObject().put("TargetId", target);
            if (target.startsWith("r-")) {
                t.put("Arn", "arn:aws:organizations::" + org.managementAccountId() + ":root/" + org.id() + "/" + target);
                t.put("Name", "Root").put("Type", "ROOT");
            } else if (target.startsWith("ou-")) {
                t.put("Arn", "arn:aws:organizations::" + org.managementAccountId() + ":ou/" + org.id() + "/" + target);
                accounts.store().read(h -> new dev.citadel.metadata.accounts.OrganizationUnitRepository(h).unit(target))
                        .ifPresent(u -> t.put("Name", u.name()));
                t.put("Type", "ORGANIZATIONAL_UNIT");
            } else {
                t.put("Arn", "arn:aws:organizations::" + org.managementAccountId() + ":account/" + org.id() + "/" + target);
                accounts.account(new dev.citadel.core.AccountId(target)).ifPresent(a -> t.put("Name", a.name()));
                t.put("Type", "ACCOUNT");
            }
        }
        return out;
    }

    private String requireTarget(Organization org, Inputs in) {
        String target = in.requiredString("TargetId", 1, 100, TARGET_ID);
        boolean known = target.equals(AccountDirectory.rootId(org))
                || (target.matches("\\d{12}") && accounts.account(new dev.citadel.core.AccountId(target)).isPresent())
                || (target.startsWith("ou-") && accounts.store().read(h -> new dev.citadel.metadata.accounts.OrganizationUnitRepository(h)
                        .unit(target)).isPresent());
        if (!known) {
            throw new AwsException("TargetNotFoundException", 400, "We can't find a root, OU, account, or policy with the TargetId that you specified.");
        }
        return target;
    }

    private OrgPolicy requirePolicy(ObjectNode input) {
        String id = new Inputs(input, INVALID).requiredString("PolicyId", 3, 130, POLICY_ID);
        return accounts.store().read(h -> new OrganizationPolicyRepository(h).policy(id))
                .orElseThrow(() -> new AwsException("PolicyNotFoundException", 400, "We can't find a policy with the PolicyId that you specified."));
    }

    private static void checkContent(String content) {
        if (content.length() > MAX_CONTENT) {
            throw new AwsException("ConstraintViolationException", 400, "You attempted to create or update a policy larger than the maximum "
                    + "size of " + MAX_CONTENT + " characters.");
        }
        try {
            PolicyParser.parse(content, PolicyParser.Kind.SERVICE_CONTROL);
        } catch (MalformedPolicyException e) {
            throw new AwsException("MalformedPolicyDocumentException", 400, e.getMessage());
        }
    }

    private static List<String> allAccountIds(org.jdbi.v3.core.Handle h) {
        return h.createQuery("SELECT id FROM accounts ORDER BY id").mapTo(String.class).list();
    }

    private static ObjectNode summary(OrgPolicy p) {
        ObjectNode s = JsonNodeFactory.instance.objectNode();
        s.put("Id", p.id()).put("Arn", p.arn()).put("Name", p.name()).put("Description", p.description()).put("Type", p.type())
                .put("AwsManaged", p.awsManaged());
        return s;
    }

    private static ObjectNode policyJson(OrgPolicy p) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.set("PolicySummary", summary(p));
        n.put("Content", p.content());
        return n;
    }

}
