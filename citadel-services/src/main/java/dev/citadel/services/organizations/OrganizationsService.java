package dev.citadel.services.organizations;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AccountId;
import dev.citadel.core.AwsException;
import dev.citadel.metadata.Page;
import dev.citadel.metadata.accounts.Account;
import dev.citadel.metadata.accounts.CreateAccountRequest;
import dev.citadel.metadata.accounts.Organization;
import dev.citadel.pipeline.Operation;
import dev.citadel.pipeline.RequestContext;
import dev.citadel.pipeline.spec.OperationSpec;
import dev.citadel.pipeline.spec.ResourceResolver;
import dev.citadel.pipeline.spec.ServiceDefinition;
import dev.citadel.services.Inputs;
import dev.citadel.services.accounts.AccountDirectory;
import dev.citadel.wire.Protocol;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * AWS Organizations (awsJson1_1, target prefix {@code AWSOrganizationsV20161128}): the account
 * operations of the foundation. Only the management account may call them, as in AWS.
 */
public final class OrganizationsService {
    public static final ServiceDefinition DEFINITION = new ServiceDefinition("organizations", "organizations", "organizations",
            Protocol.AWS_JSON_1_1, "AWSOrganizationsV20161128", "2016-11-28", "", "organizations.amazonaws.com", true);

    static final String INVALID_INPUT = "InvalidInputException";
    private static final Pattern ACCOUNT_NAME = Pattern.compile("[\\u0020-\\u007E]+");
    private static final Pattern EMAIL = Pattern.compile("[^\\s@]+@[^\\s@]+\\.[^\\s@]+");
    private static final Pattern ROLE_NAME = Pattern.compile("[\\w+=,.@-]{1,64}");
    private static final Pattern CAR_ID = Pattern.compile("car-[a-z0-9]{8,32}");
    private static final Pattern ACCOUNT_ID = Pattern.compile("\\d{12}");

    private final AccountDirectory accounts;

    public OrganizationsService(AccountDirectory accounts) {
        this.accounts = accounts;
    }

    public List<Operation> operations() {
        return List.of(
                Operation.of(specFor("CreateAccount").resources(ResourceResolver.ALL).build(), this::createAccount),
                Operation.of(specFor("DescribeCreateAccountStatus").resources(ResourceResolver.ALL).readOnly().build(),
                        this::describeCreateAccountStatus),
                Operation.of(specFor("ListAccounts").resources(ResourceResolver.ALL).readOnly().build(), this::listAccounts),
                Operation.of(specFor("DescribeAccount").resources(accountResource("AccountId")).readOnly().build(), this::describeAccount),
                Operation.of(specFor("DescribeOrganization").resources(ResourceResolver.ALL).readOnly().build(), this::describeOrganization));
    }

    /** The account operations, the policy operations ({@link OrganizationPolicyOperations}) and the OU operations ({@link OrganizationUnitOperations}). */
    public List<Operation> allOperations() {
        List<Operation> all = new java.util.ArrayList<>(operations());
        all.addAll(new OrganizationPolicyOperations(accounts).operations());
        all.addAll(new OrganizationUnitOperations(accounts).operations());
        return List.copyOf(all);
    }

    /** An operation of the management account's tree and policies: resource {@code *}, 64 KiB bodies. */
    static Operation managementOperation(String name, boolean readOnly, Operation.Handler handler) {
        OperationSpec.Builder b = OperationSpec.builder("organizations", name).maxBodyBytes(64 * 1024).resources(ResourceResolver.ALL);
        if (readOnly) {
            b.readOnly();
        }
        return Operation.of(b.build(), handler);
    }

    private static OperationSpec.Builder specFor(String name) {
        return OperationSpec.builder("organizations", name).maxBodyBytes(256 * 1024);
    }

    /** Organizations' ARNs for the caller's organization; {@code *} before one exists. */
    private ResourceResolver accountResource(String member) {
        return (ctx, input) -> {
            Optional<Organization> org = accounts.organization();
            JsonNode id = input.get(member);
            if (org.isEmpty() || id == null || !id.isTextual()) {
                return List.of("*");
            }
            return List.of("arn:aws:organizations::" + org.get().managementAccountId() + ":account/" + org.get().id() + "/" + id.textValue());
        };
    }

    private Organization requireManagementCaller(RequestContext ctx) {
        return requireManagementCaller(accounts, ctx);
    }

    /** The organization, when the caller is in its management account; Organizations' errors otherwise. */
    static Organization requireManagementCaller(AccountDirectory accounts, RequestContext ctx) {
        Organization org = accounts.organization()
                .orElseThrow(() -> new AwsException("AWSOrganizationsNotInUseException", 400,
                        "Your account is not a member of an organization."));
        if (!org.managementAccountId().equals(ctx.principal().account().value())) {
            throw new AwsException("AccessDeniedException", 400,
                    "You don't have permissions to access this resource. Only the management account can perform this operation.");
        }
        return org;
    }

    /** {@code organizations:CreateAccount}: creates a member account with its OrganizationAccountAccessRole. */
    JsonNode createAccount(RequestContext ctx, ObjectNode input) {
        Inputs in = new Inputs(input, INVALID_INPUT);
        String name = in.requiredString("AccountName", 1, 50, ACCOUNT_NAME);
        String email = in.requiredString("Email", 6, 64, EMAIL);
        String roleName = in.optionalString("RoleName", 1, 64, ROLE_NAME).orElse(AccountDirectory.ACCESS_ROLE);
        in.optionalString("IamUserAccessToBilling", 4, 5, Pattern.compile("ALLOW|DENY"));
        if (input.has("Tags") && !input.get("Tags").isArray()) {
            throw new AwsException(INVALID_INPUT, 400, "Tags must be a list.");
        }
        requireManagementCaller(ctx);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.set("CreateAccountStatus", statusJson(accounts.createAccount(name, email, roleName)));
        return out;
    }

    /** {@code organizations:DescribeCreateAccountStatus}. */
    JsonNode describeCreateAccountStatus(RequestContext ctx, ObjectNode input) {
        String id = new Inputs(input, INVALID_INPUT).requiredString("CreateAccountRequestId", 8, 36, CAR_ID);
        requireManagementCaller(ctx);
        CreateAccountRequest status = accounts.createAccountStatus(id).orElseThrow(() -> new AwsException(
                "CreateAccountStatusNotFoundException", 400, "We can't find a create account request with the CreateAccountRequestId that you specified."));
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.set("CreateAccountStatus", statusJson(status));
        return out;
    }

    /** {@code organizations:ListAccounts}: all accounts of the organization, management account included, paginated. */
    JsonNode listAccounts(RequestContext ctx, ObjectNode input) {
        Inputs in = new Inputs(input, INVALID_INPUT);
        int max = in.optionalInt("MaxResults", 1, 20).orElse(20);
        Optional<String> token = in.optionalString("NextToken", 1, 100_000, null);
        requireManagementCaller(ctx);
        Page<Account> page;
        try {
            page = accounts.listAccounts(token, max);
        } catch (IllegalArgumentException e) {
            throw new AwsException(INVALID_INPUT, 400, "The NextToken value is not valid.");
        }
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        var list = out.putArray("Accounts");
        page.items().forEach(a -> list.add(accountJson(a)));
        page.nextToken().ifPresent(t -> out.put("NextToken", t));
        return out;
    }

    /** {@code organizations:DescribeAccount}. */
    JsonNode describeAccount(RequestContext ctx, ObjectNode input) {
        String id = new Inputs(input, INVALID_INPUT).requiredString("AccountId", 12, 12, ACCOUNT_ID);
        requireManagementCaller(ctx);
        Account account = accounts.account(new AccountId(id)).orElseThrow(() -> new AwsException("AccountNotFoundException", 400,
                "You specified an account that doesn't exist."));
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.set("Account", accountJson(account));
        return out;
    }

    /** {@code organizations:DescribeOrganization}: any account of the organization may call it. */
    JsonNode describeOrganization(RequestContext ctx, ObjectNode input) {
        Organization org = accounts.organization()
                .filter(o -> accounts.account(ctx.principal().account()).isPresent())
                .orElseThrow(() -> new AwsException("AWSOrganizationsNotInUseException", 400,
                        "Your account is not a member of an organization."));
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("Id", org.id());
        o.put("Arn", org.arn());
        o.put("FeatureSet", org.featureSet());
        o.put("MasterAccountArn", "arn:aws:organizations::" + org.managementAccountId() + ":account/" + org.id() + "/" + org.managementAccountId());
        o.put("MasterAccountId", org.managementAccountId());
        o.put("MasterAccountEmail", org.managementAccountEmail());
        ObjectNode scp = o.putArray("AvailablePolicyTypes").addObject();
        scp.put("Type", "SERVICE_CONTROL_POLICY");
        scp.put("Status", "ENABLED");
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.set("Organization", o);
        return out;
    }

    static ObjectNode statusJson(CreateAccountRequest s) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("Id", s.id());
        n.put("AccountName", s.accountName());
        n.put("State", s.state());
        n.put("RequestedTimestamp", epochSeconds(s.requestedAt()));
        s.completedAt().ifPresent(t -> n.put("CompletedTimestamp", epochSeconds(t)));
        s.accountId().ifPresent(a -> n.put("AccountId", a));
        s.failureReason().ifPresent(r -> n.put("FailureReason", r));
        return n;
    }

    static ObjectNode accountJson(Account a) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("Id", a.id());
        n.put("Arn", a.arn());
        n.put("Email", a.email());
        n.put("Name", a.name());
        n.put("Status", a.status());
        n.put("JoinedMethod", a.joinedMethod());
        n.put("JoinedTimestamp", epochSeconds(a.joinedAt()));
        return n;
    }

    /** awsJson timestamps are epoch seconds with a fraction. */
    static double epochSeconds(Instant t) {
        return t.toEpochMilli() / 1000.0;
    }
}
