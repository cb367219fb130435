package dev.citadel.services.organizations;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AccountId;
import dev.citadel.core.AwsException;
import dev.citadel.metadata.DuplicateKeyException;
import dev.citadel.metadata.accounts.Organization;
import dev.citadel.metadata.accounts.OrganizationPolicyRepository;
import dev.citadel.metadata.accounts.OrganizationUnitRepository;
import dev.citadel.metadata.accounts.OrganizationUnitRepository.Unit;
import dev.citadel.pipeline.Operation;
import dev.citadel.pipeline.RequestContext;
import dev.citadel.services.Inputs;
import dev.citadel.services.accounts.AccountDirectory;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Organizational units: the tree under the root that accounts move within, and the levels
 * service control policies apply at (root, each OU from the top down, account). Only the
 * management account may call these.
 */
final class OrganizationUnitOperations {
    static final Pattern UNIT_ID = Pattern.compile("ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}");
    private static final Pattern PARENT_ID = Pattern.compile("(r-[0-9a-z]{4,32})|(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})");
    private static final Pattern CHILD_ID = Pattern.compile("(\\d{12})|(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})");
    private static final Pattern NAME = Pattern.compile("[\\s\\S]*");
    private static final int MAX_DEPTH = 5;
    private static final String INVALID = OrganizationsService.INVALID_INPUT;

    private final AccountDirectory accounts;

    OrganizationUnitOperations(AccountDirectory accounts) {
        this.accounts = accounts;
    }

    List<Operation> operations() {
        return List.of(
                op("CreateOrganizationalUnit", false, this::create),
                op("DescribeOrganizationalUnit", true, this::describe),
                op("UpdateOrganizationalUnit", false, this::update),
                op("DeleteOrganizationalUnit", false, this::delete),
                op("ListOrganizationalUnitsForParent", true, this::listForParent),
                op("MoveAccount", false, this::moveAccount),
                op("ListParents", true, this::listParents),
                op("ListChildren", true, this::listChildren),
                op("ListAccountsForParent", true, this::listAccountsForParent));
    }

    private static Operation op(String name, boolean readOnly, Operation.Handler handler) {
        return OrganizationsService.managementOperation(name, readOnly, handler);
    }

    private Organization org(RequestContext ctx) {
        return OrganizationsService.requireManagementCaller(accounts, ctx);
    }

    JsonNode create(RequestContext ctx, ObjectNode input) {
        Organization org = org(ctx);
        Inputs in = new Inputs(input, INVALID);
        String parent = in.requiredString("ParentId", 1, 100, PARENT_ID);
        String name = in.requiredString("Name", 1, 128, NAME);
        String root = AccountDirectory.rootId(org);
        String id = "ou-" + root.substring(2) + "-" + accounts.ids().lowerAlnum(8);
        Unit unit = new Unit(id, "arn:aws:organizations::" + org.managementAccountId() + ":ou/" + org.id() + "/" + id, name, parent);
        try {
            accounts.store().useTransaction(h -> {
                OrganizationUnitRepository units = new OrganizationUnitRepository(h);
                requireParent(units, root, parent);
                if (depth(units, parent) >= MAX_DEPTH) {
                    throw new AwsException("ConstraintViolationException", 400, "You attempted to create an OU tree that is deeper than "
                            + MAX_DEPTH + " levels.");
                }
                units.insert(unit);
                OrganizationPolicyRepository policies = new OrganizationPolicyRepository(h);
                if (policies.typeEnabled(root, OrganizationPolicyRepository.SCP)) {
                    policies.attach(OrganizationPolicyRepository.FULL_AWS_ACCESS_ID, id);
                }
            });
        } catch (DuplicateKeyException e) {
            throw new AwsException("DuplicateOrganizationalUnitException", 400, "An OU with the same name already exists.");
        }
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.set("OrganizationalUnit", json(unit));
        return out;
    }

    JsonNode describe(RequestContext ctx, ObjectNode input) {
        org(ctx);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.set("OrganizationalUnit", json(requireUnit(input)));
        return out;
    }

    JsonNode update(RequestContext ctx, ObjectNode input) {
        org(ctx);
        Unit unit = requireUnit(input);
        String name = new Inputs(input, INVALID).optionalString("Name", 1, 128, NAME).orElse(unit.name());
        try {
            accounts.store().useTransaction(h -> new OrganizationUnitRepository(h).rename(unit.id(), name));
        } catch (DuplicateKeyException e) {
            throw new AwsException("DuplicateOrganizationalUnitException", 400, "An OU with the same name already exists.");
        }
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.set("OrganizationalUnit", json(new Unit(unit.id(), unit.arn(), name, unit.parentId())));
        return out;
    }

    JsonNode delete(RequestContext ctx, ObjectNode input) {
        org(ctx);
        Unit unit = requireUnit(input);
        accounts.store().useTransaction(h -> {
            OrganizationUnitRepository units = new OrganizationUnitRepository(h);
            if (!units.children(unit.id()).isEmpty() || !units.accountsIn(unit.id()).isEmpty()) {
                throw new AwsException("OrganizationalUnitNotEmptyException", 400,
                        "The specified OU is not empty. Move all accounts to another root or OU, and remove all child OUs before you delete it.");
            }
            OrganizationPolicyRepository policies = new OrganizationPolicyRepository(h);
            for (var p : policies.attachedTo(unit.id())) {
                policies.detach(p.id(), unit.id());
            }
            units.delete(unit.id());
        });
        accounts.identityChanged();
        return JsonNodeFactory.instance.objectNode();
    }

    JsonNode listForParent(RequestContext ctx, ObjectNode input) {
        Organization org = org(ctx);
        String parent = new Inputs(input, INVALID).requiredString("ParentId", 1, 100, PARENT_ID);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode list = out.putArray("OrganizationalUnits");
        accounts.store().read(h -> {
            OrganizationUnitRepository units = new OrganizationUnitRepository(h);
            requireParent(units, AccountDirectory.rootId(org), parent);
            units.children(parent).forEach(u -> list.add(json(u)));
            return null;
        });
        return out;
    }

    JsonNode moveAccount(RequestContext ctx, ObjectNode input) {
        Organization org = org(ctx);
        Inputs in = new Inputs(input, INVALID);
        String account = in.requiredString("AccountId", 12, 12, Pattern.compile("\\d{12}"));
        String source = in.requiredString("SourceParentId", 1, 100, PARENT_ID);
        String destination = in.requiredString("DestinationParentId", 1, 100, PARENT_ID);
        String root = AccountDirectory.rootId(org);
        if (accounts.account(new AccountId(account)).isEmpty()) {
            throw new AwsException("AccountNotFoundException", 400, "You specified an account that doesn't exist.");
        }
        accounts.store().useTransaction(h -> {
            OrganizationUnitRepository units = new OrganizationUnitRepository(h);
            if (!source.equals(root) && units.unit(source).isEmpty()) {
                throw new AwsException("SourceParentNotFoundException", 400, "We can't find a source root or OU with the ParentId that you specified.");
            }
            if (!destination.equals(root) && units.unit(destination).isEmpty()) {
                throw new AwsException("DestinationParentNotFoundException", 400,
                        "We can't find a destination root or OU with the ParentId that you specified.");
            }
            String current = units.parentOf(account).orElse(root);
            if (!current.equals(source)) {
                throw new AwsException("AccountNotFoundException", 400, "You specified an account that doesn't exist in the source parent.");
            }
            if (current.equals(destination)) {
                throw new AwsException("DuplicateAccountException", 400, "That account is already present in the specified destination.");
            }
            units.setParent(account, destination.equals(root) ? Optional.empty() : Optional.of(destination));
        });
        accounts.identityChanged();
        return JsonNodeFactory.instance.objectNode();
    }

    JsonNode listParents(RequestContext ctx, ObjectNode input) {
        Organization org = org(ctx);
        String child = new Inputs(input, INVALID).requiredString("ChildId", 1, 100, CHILD_ID);
        String root = AccountDirectory.rootId(org);
        String parent = accounts.store().read(h -> {
            OrganizationUnitRepository units = new OrganizationUnitRepository(h);
            if (child.startsWith("ou-")) {
                return units.unit(child).map(Unit::parentId).orElseThrow(() -> new AwsException("ChildNotFoundException", 400,
                        "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified."));
            }
            if (accounts.account(new AccountId(child)).isEmpty()) {
                throw new AwsException("ChildNotFoundException", 400,
                        "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.");
            }
            return units.parentOf(child).orElse(root);
        });
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.putArray("Parents").addObject().put("Id", parent).put("Type", parent.startsWith("r-") ? "ROOT" : "ORGANIZATIONAL_UNIT");
        return out;
    }

    JsonNode listChildren(RequestContext ctx, ObjectNode input) {
        Organization org = org(ctx);
        Inputs in = new Inputs(input, INVALID);
        String parent = in.requiredString("ParentId", 1, 100, PARENT_ID);
        String type = in.requiredString("ChildType", 1, 32, Pattern.compile("ACCOUNT|ORGANIZATIONAL_UNIT"));
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode list = out.putArray("Children");
        accounts.store().read(h -> {
            OrganizationUnitRepository units = new OrganizationUnitRepository(h);
            String root = AccountDirectory.rootId(org);
            requireParent(units, root, parent);
            if (type.equals("ACCOUNT")) {
                (parent.equals(root) ? units.accountsUnderRoot() : units.accountsIn(parent)).forEach(a -> list.addObject().put("Id", a)
                        .put("Type", "ACCOUNT"));
            } else {
                units.children(parent).forEach(u -> list.addObject().put("Id", u.id()).put("Type", "ORGANIZATIONAL_UNIT"));
            }
            return null;
        });
        return out;
    }

    JsonNode listAccountsForParent(RequestContext ctx, ObjectNode input) {
        Organization org = org(ctx);
        String parent = new Inputs(input, INVALID).requiredString("ParentId", 1, 100, PARENT_ID);
        List<String> ids = accounts.store().read(h -> {
            OrganizationUnitRepository units = new OrganizationUnitRepository(h);
            String root = AccountDirectory.rootId(org);
            requireParent(units, root, parent);
            return parent.equals(root) ? units.accountsUnderRoot() : units.accountsIn(parent);
        });
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode list = out.putArray("Accounts");
        for (String id : ids) {
            accounts.account(new AccountId(id)).ifPresent(a -> list.add(OrganizationsService.accountJson(a)));
        }
        return out;
    }

    private static void requireParent(OrganizationUnitRepository units, String root, String parent) {
        if (!parent.equals(root) && units.unit(parent).isEmpty()) {
            throw new AwsException("ParentNotFoundException", 400, "We can't find a root or OU with the ParentId that you specified.");
        }
    }

    private static int depth(OrganizationUnitRepository units, String parent) {
        int depth = 0;
        Optional<String> p = Optional.of(parent);
        while (p.isPresent() && p.get().startsWith("ou-") && depth <= MAX_DEPTH) {
            depth++;
            p = units.unit(p.get()).map(Unit::parentId);
        }
        return depth;
    }

    private Unit requireUnit(ObjectNode input) {
        String id = new Inputs(input, INVALID).requiredString("OrganizationalUnitId", 1, 100, UNIT_ID);
        return accounts.store().read(h -> new OrganizationUnitRepository(h).unit(id))
                .orElseThrow(() -> new AwsException("OrganizationalUnitNotFoundException", 400,
                        "We can't find an OU with the OrganizationalUnitId that you specified."));
    }

    private static ObjectNode json(Unit u) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("Id", u.id()).put("Arn", u.arn()).put("Name", u.name());
        return n;
    }
}
