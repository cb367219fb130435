package dev.citadel.services.accounts;

import static java.util.Objects.requireNonNull;

import dev.citadel.core.AccountId;
import dev.citadel.core.Ids;
import dev.citadel.core.SecretBytes;
import dev.citadel.core.SecretSealer;
import dev.citadel.metadata.DuplicateKeyException;
import dev.citadel.metadata.MetadataStore;
import dev.citadel.metadata.Page;
import dev.citadel.metadata.accounts.Account;
import dev.citadel.metadata.accounts.AccountRepository;
import dev.citadel.metadata.accounts.CreateAccountRequest;
import dev.citadel.metadata.accounts.Organization;
import dev.citadel.metadata.iam.AccessKey;
import dev.citadel.metadata.iam.IamRepository;
import dev.citadel.metadata.iam.IamRole;
import dev.citadel.metadata.iam.IamUser;
import dev.citadel.metadata.iam.SigningIdentity;
import dev.citadel.pipeline.Principal;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.jdbi.v3.core.Handle;

/**
 * Accounts and the identities inside them: the organization, member accounts with their
 * {@code OrganizationAccountAccessRole}, IAM users with access keys whose secrets are stored only
 * sealed. Every change happens in one transaction; validation is the caller's, before this is
 * called.
 */
public final class AccountDirectory {
    public static final String ACCESS_ROLE = "OrganizationAccountAccessRole";
    public static final String ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess";
    private static final int ACCESS_KEYS_PER_USER = 2;

    /** A new access key; the secret exists in plaintext only in this value, once. */
    public record NewKey(String accessKeyId, SecretBytes secretAccessKey) {
        public NewKey {
            requireNonNull(accessKeyId, "accessKeyId is null");
            requireNonNull(secretAccessKey, "secretAccessKey is null");
        }
    }

    /** An access key resolved for signature verification: who it belongs to and its secret. */
    public record ResolvedKey(Principal principal, SecretBytes secretAccessKey, boolean active) {
    }

    private final MetadataStore store;
    private final SecretSealer sealer;
    private final Ids ids;
    private final Clock clock;
    private final AtomicReference<Organization> organization = new AtomicReference<>();
    private final java.util.List<Runnable> identityListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    public AccountDirectory(MetadataStore store, SecretSealer sealer, SecureRandom random, Clock clock) {
        this.store = store;
        this.sealer = sealer;
        this.ids = new Ids(random);
        this.clock = clock;
    }

    public Optional<Organization> organization() {
        Organization cached = organization.get();
        if (cached != null) {
            return Optional.of(cached);
        }
        Optional<Organization> org = store.read(h -> new AccountRepository(h).organization());
        org.ifPresent(organization::set);
        return org;
    }

    public Optional<Account> account(AccountId id) {
        return store.read(h -> new AccountRepository(h).account(id.value()));
    }

    public Page<Account> listAccounts(Optional<String> token, int max) {
        return store.read(h -> new AccountRepository(h).listAccounts(token, max));
    }

    public Optional<CreateAccountRequest> createAccountStatus(String id) {
        return store.read(h -> new AccountRepository(h).createAccountRequest(id));
    }

    /**
     * Creates the organization, its management account and an administrator with an access key,
     * in one transaction. Returns the key, whose secret is never retrievable again.
     */
    public NewKey createOrganization(String managementEmail, String adminUser) {
        Instant now = clock.instant();
        NewKey key = store.inTransaction(h -> {
            AccountRepository accounts = new AccountRepository(h);
            if (accounts.organization().isPresent()) {
                throw new IllegalStateException("the organization exists already");
            }
            AccountId management = ids.accountId();
            String orgId = "o-" + ids.lowerAlnum(10);
            accounts.insertAccount(new Account(management.value(), accountArn(management.value(), orgId, management.value()),
                    "management", managementEmail, "ACTIVE", "CREATED", now));
            accounts.insertOrganization(new Organization(orgId, "arn:aws:organizations::" + management + ":organization/" + orgId,
                    "ALL", management.value(), managementEmail, now));
            IamRepository iam = new IamRepository(h);
            iam.insertUser(new IamUser(management.value(), adminUser, ids.iamId("AIDA"), "/",
                    "arn:aws:iam::" + management + ":user/" + adminUser, now));
            iam.attachPolicy(management.value(), "user", adminUser, ADMINISTRATOR_ACCESS);
            return createAccessKey(h, management.value(), adminUser, now);
        });
        organization.set(null);
        return key;
    }

    /**
     * CreateAccount: a member account with an {@code OrganizationAccountAccessRole} (or the given
     * role name) that the management account may assume, holding AdministratorAccess. A used
     * e-mail address gives a FAILED status with reason EMAIL_ALREADY_EXISTS, as AWS reports it,
     * and creates nothing else.
     */
    public CreateAccountRequest createAccount(String name, String email, String roleName) {
        Organization org = organization().orElseThrow(() -> new IllegalStateException("no organization"));
        Instant now = clock.instant();
        String requestId = "car-" + ids.lowerAlnum(32);
        for (int attempt = 0; ; attempt++) {
            try {
                return store.inTransaction(h -> {
                    AccountRepository accounts = new AccountRepository(h);
                    if (accounts.emailInUse(email)) {
                        CreateAccountRequest failed = new CreateAccountRequest(requestId, name, email, "FAILED", Optional.empty(),
                                Optional.of("EMAIL_ALREADY_EXISTS"), now, Optional.of(now));
                        accounts.insertCreateAccountRequest(failed);
                        return failed;
                    }
                    AccountId id = ids.accountId();
                    accounts.insertAccount(new Account(id.value(), accountArn(org.managementAccountId(), org.id(), id.value()), name,
                            email, "ACTIVE", "CREATED", now));
                    IamRepository iam = new IamRepository(h);
                    iam.insertRole(new IamRole(id.value(), roleName, ids.iamId("AROA"), "/", "arn:aws:iam::" + id + ":role/" + roleName,
                            trustPolicy(org.managementAccountId()), "Lets the management account administer this account.", 3600, now));
                    iam.attachPolicy(id.value(), "role", roleName, ADMINISTRATOR_ACCESS);
                    var scps = new dev.citadel.metadata.accounts.OrganizationPolicyRepository(h);
                    if (scps.typeEnabled(rootId(org), dev.citadel.metadata.accounts.OrganizationPolicyRepository.SCP)) {
                        scps.attach(dev.citadel.metadata.accounts.OrganizationPolicyRepository.FULL_AWS_ACCESS_ID, id.value());
                    }
                    CreateAccountRequest done = new CreateAccountRequest(requestId, name, email, "SUCCEEDED", Optional.of(id.value()),
                            Optional.empty(), now, Optional.of(now));
                    accounts.insertCreateAccountRequest(done);
                    return done;
                });
            } catch (DuplicateKeyException e) {
                // A random account id collided: draw another. The same e-mail racing in is caught
                // by the e-mail check of the next attempt, which records EMAIL_ALREADY_EXISTS.
                boolean retryable = e.constraint().equals(AccountRepository.ACCOUNT_ID)
                        || e.constraint().equals(AccountRepository.ACCOUNT_EMAIL);
                if (!retryable || attempt >= 5) {
                    throw e;
                }
            }
        }
    }

    /**
     * Registers a callback run after any change to keys or policy attachments, so that caches in
     * this process drop what they hold at once (other nodes rely on their caches' short lifetimes).
     */
    public void onIdentityChange(Runnable listener) {
        identityListeners.add(listener);
    }

    /** Tells the listeners that keys or attachments changed. */
    public void identityChanged() {
        identityListeners.forEach(Runnable::run);
    }

    /** The store, for the services that keep identities in it. */
    public MetadataStore store() {
        return store;
    }

    /** A new access key for a user, within the limit of two, sealed before it is stored. */
    public NewKey createAccessKey(String accountId, String userName) {
        NewKey key = store.inTransaction(h -> createAccessKey(h, accountId, userName, clock.instant()));
        identityChanged();
        return key;
    }

    public Ids ids() {
        return ids;
    }

    public Instant now() {
        return clock.instant();
    }

    /** Resolves an access key for authentication; the secret is unsealed here and nowhere else. */
    public Optional<ResolvedKey> resolveAccessKey(String accessKeyId) {
        Optional<SigningIdentity> found = store.read(h -> new IamRepository(h).findAccessKey(accessKeyId));
        return found.map(identity -> {
            IamUser user = identity.user();
            SecretBytes secret = sealer.unseal(identity.key().secretSealed(), sealContext(accessKeyId));
            Principal principal = new Principal("IAMUser", new AccountId(user.accountId()), user.userId(), user.arn(), user.userName(),
                    accessKeyId, tags(user.accountId(), "user", user.userName()), Optional.empty());
            return new ResolvedKey(principal, secret, identity.key().status().equals("Active"));
        });
    }

    /** The managed policies attached to a user, or to the role of a role session. */
    public java.util.List<String> attachedPolicies(Principal principal) {
        String type = principal.type().equals("IAMUser") ? "user" : "role";
        return store.read(h -> new IamRepository(h).attachedPolicies(principal.account().value(), type, principal.name()));
    }

    /** For a user: each group's name with its attached policy ARNs and inline documents. Empty for other principals. */
    public java.util.List<GroupPolicies> groupPolicies(Principal principal) {
        if (!principal.type().equals("IAMUser")) {
            return java.util.List.of();
        }
        String account = principal.account().value();
        return store.read(h -> {
            IamRepository iam = new IamRepository(h);
            java.util.List<GroupPolicies> out = new java.util.ArrayList<>();
            for (var g : iam.groupsForUser(account, principal.name())) {
                out.add(new GroupPolicies(g.arn(), iam.attachedPolicies(account, "group", g.groupName()),
                        iam.inlinePolicies(account, "group", g.groupName())));
            }
            return out;
        });
    }

    /** The policies a user receives through one group. */
    public record GroupPolicies(String groupArn, java.util.List<String> attached, java.util.Map<String, String> inline) {
    }

    /** The inline policies of a user, or of the role of a role session: name to document. */
    public java.util.Map<String, String> inlinePolicies(Principal principal) {
        String type = principal.type().equals("IAMUser") ? "user" : "role";
        return store.read(h -> new IamRepository(h).inlinePolicies(principal.account().value(), type, principal.name()));
    }

    /** The role an ARN names ({@code arn:aws:iam::A:role/path/name}), if it exists with exactly that ARN. */
    public Optional<IamRole> roleByArn(String arn) {
        Optional<String[]> parts = iamArn(arn, "role/");
        if (parts.isEmpty()) {
            return Optional.empty();
        }
        String[] p = parts.get();
        return store.read(h -> new IamRepository(h).role(p[0], p[1])).filter(r -> r.arn().equals(arn));
    }

    /** The user an ARN names, if it exists with exactly that ARN. */
    public Optional<IamUser> userByArn(String arn) {
        Optional<String[]> parts = iamArn(arn, "user/");
        if (parts.isEmpty()) {
            return Optional.empty();
        }
        String[] p = parts.get();
        return store.read(h -> new IamRepository(h).user(p[0], p[1])).filter(u -> u.arn().equals(arn));
    }

    /** {account, name} of {@code arn:aws:iam::<account>:<kind><path><name>}. */
    private static Optional<String[]> iamArn(String arn, String kind) {
        String prefix = "arn:aws:iam::";
        if (!arn.startsWith(prefix) || arn.length() > 2048) {
            return Optional.empty();
        }
        int colon = arn.indexOf(':', prefix.length());
        if (colon != prefix.length() + 12 || !arn.startsWith(kind, colon + 1)) {
            return Optional.empty();
        }
        String account = arn.substring(prefix.length(), colon);
        String name = arn.substring(arn.lastIndexOf('/') + 1);
        return AccountId.isValid(account) && !name.isEmpty() ? Optional.of(new String[] {account, name}) : Optional.empty();
    }

    /** The permissions boundary ARN of a user, or of the role of a role session. */
    public Optional<String> permissionsBoundary(Principal principal) {
        String type = principal.isRoleSession() ? "role" : "user";
        return store.read(h -> new dev.citadel.metadata.iam.IamTagRepository(h).boundary(principal.account().value(), type, principal.name()));
    }

    /** The tags of a user or role. */
    public java.util.Map<String, String> tags(String accountId, String type, String name) {
        return store.read(h -> new dev.citadel.metadata.iam.IamTagRepository(h).tags(accountId, type, name));
    }

    /** The default version's document of a customer managed policy of the account. */
    public Optional<String> customerPolicyDocument(String accountId, String policyArn) {
        if (!policyArn.startsWith("arn:aws:iam::" + accountId + ":policy/")) {
            return Optional.empty();
        }
        return store.read(h -> new dev.citadel.metadata.iam.ManagedPolicyRepository(h).defaultDocument(policyArn));
    }

    /**
     * The service control policies that bound an account, level by level (the root's, each
     * organizational unit's from the top down, then the account's), as documents; empty when the account is the management account, which SCPs never
     * restrict, or when SCPs are not enabled.
     */
    public java.util.List<java.util.List<String>> serviceControlPolicies(AccountId account) {
        Optional<Organization> org = organization();
        if (org.isEmpty() || org.get().managementAccountId().equals(account.value())) {
            return java.util.List.of();
        }
        String root = rootId(org.get());
        return store.read(h -> {
            var policies = new dev.citadel.metadata.accounts.OrganizationPolicyRepository(h);
            if (!policies.typeEnabled(root, dev.citadel.metadata.accounts.OrganizationPolicyRepository.SCP)) {
                return java.util.List.of();
            }
            java.util.List<java.util.List<String>> levels = new java.util.ArrayList<>();
            levels.add(policies.contentsAttachedTo(root));
            for (String unit : new dev.citadel.metadata.accounts.OrganizationUnitRepository(h).path(account.value())) {
                levels.add(policies.contentsAttachedTo(unit));
            }
            levels.add(policies.contentsAttachedTo(account.value()));
            return levels;
        });
    }

    /** The id of the organization's root, derived from the organization's id ({@code o-abcdefghij} has root {@code r-abcd}). */
    public static String rootId(Organization org) {
        return "r-" + org.id().substring(2, 6);
    }

    public boolean hasPolicyAttached(Principal principal, String policyArn) {
        return attachedPolicies(principal).contains(policyArn);
    }

    private NewKey createAccessKey(Handle h, String accountId, String userName, Instant now) {
        IamRepository iam = new IamRepository(h);
        iam.lockUser(accountId, userName);
        if (iam.countAccessKeys(accountId, userName) >= ACCESS_KEYS_PER_USER) {
            throw new dev.citadel.core.AwsException("LimitExceeded", 409, "Cannot exceed quota for AccessKeysPerUser: " + ACCESS_KEYS_PER_USER);
        }
        String keyId = ids.iamId("AKIA");
        SecretBytes secret = SecretBytes.ofUtf8(ids.secretAccessKey());
        iam.insertAccessKey(new AccessKey(keyId, accountId, IamUser.nameKey(userName), sealer.seal(secret, sealContext(keyId)), "Active", now));
        return new NewKey(keyId, secret);
    }

    /** The context an access key's secret is sealed under. */
    public static String sealContext(String accessKeyId) {
        return "iam/access-key/" + accessKeyId;
    }

    private static String accountArn(String management, String orgId, String account) {
        return "arn:aws:organizations::" + management + ":account/" + orgId + "/" + account;
    }

    private static String trustPolicy(String managementAccount) {
        return "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::"
                + managementAccount + ":root\"},\"Action\":\"sts:AssumeRole\"}]}";
    }
}
