package dev.citadel.services.iam;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.core.AccountId;
import dev.citadel.metadata.MetadataStore;
import dev.citadel.metadata.MetadataConfig;
import dev.citadel.pipeline.Principal;
import dev.citadel.pipeline.authz.AuthorizationDecision;
import dev.citadel.pipeline.authz.AuthorizationRequest;
import dev.citadel.services.accounts.AccountDirectory;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyAuthorizerTest {
    @TempDir
    Path dir;
    private MetadataStore store;
    private AccountDirectory directory;
    private PolicyAuthorizer authorizer;
    private Principal admin;

    @BeforeEach
    void setUp() {
        store = MetadataStore.open(MetadataConfig.embedded(dir));
        directory = new AccountDirectory(store, new dev.citadel.services.TestSupport.MarkingSealer(), new SecureRandom(), Clock.systemUTC());
        AccountDirectory.NewKey key = directory.createOrganization("ops@example.com", "admin");
        admin = directory.resolveAccessKey(key.accessKeyId()).orElseThrow().principal();
        authorizer = new PolicyAuthorizer(directory);
    }

    @AfterEach
    void tearDown() {
        store.close();
    }

    private AuthorizationDecision decide(Principal p, String... resources) {
        return authorizer.authorize(new AuthorizationRequest(p, "organizations:DescribeAccount", List.of(resources), Map.of()));
    }

    @Test
    void adminIsAllowedOnItsOwnAccount() {
        assertThat(decide(admin, "*").allowed()).isTrue();
        assertThat(decide(admin, "arn:aws:organizations::" + admin.account() + ":account/o-abcdefghij/123456789012").allowed()).isTrue();
    }

    @Test
    void adminIsDeniedOnAnotherAccountsResource() {
        AuthorizationDecision d = decide(admin, "arn:aws:iam::999999999999:role/x");
        assertThat(d.allowed()).isFalse();
        assertThat(d.deniedResource()).isEqualTo("arn:aws:iam::999999999999:role/x");
    }

    @Test
    void principalWithoutAdministratorAccessIsDenied() {
        Principal stranger = new Principal("IAMUser", admin.account(), "AIDAOTHEROTHEROTHER0", "arn:aws:iam::" + admin.account() + ":user/bob",
                "bob", "AKIAOTHER");
        AuthorizationDecision d = decide(stranger, "*");
        assertThat(d.allowed()).isFalse();
        assertThat(d.reason()).contains("no identity-based policy allows");
    }

    @Test
    void deniedReasonNamesWhatWasMissing() {
        AuthorizationDecision d = decide(admin, "arn:aws:iam::999999999999:role/x");
        assertThat(d.reason()).isEqualTo("because no resource-based policy allows the organizations:DescribeAccount action");
    }

    @Test
    void malformedResourceIsDenied() {
        assertThat(decide(admin, "not-an-arn").allowed()).isFalse();
    }

    @Test
    void memberAccountRoleHoldsAdministratorAccess() {
        var status = directory.createAccount("research", "research@example.com", AccountDirectory.ACCESS_ROLE);
        String account = status.accountId().orElseThrow();
        Principal session = new Principal("AssumedRole", new AccountId(account), "AROAEXAMPLE:s", "arn:aws:sts::" + account
                + ":assumed-role/OrganizationAccountAccessRole/s", AccountDirectory.ACCESS_ROLE, "ASIAEXAMPLE");
        assertThat(directory.hasPolicyAttached(session, ManagedPolicies.ADMINISTRATOR_ACCESS)).isTrue();
    }

    // ---- a service principal acting on its own behalf (Citadel's marketplace launcher) ----

    private static final String KEY = "arn:aws:kms:us-east-1:111122223333:key/0000aaaa-0000-4000-8000-000000000001";

    /** A key whose policy is {@code policy} and whose only grant lets {@code grantee} Decrypt (any context). */
    private static PolicyAuthorizer.ResourcePolicies key(String policy, String grantee) {
        return new PolicyAuthorizer.ResourcePolicies() {
            @Override
            public java.util.Optional<dev.citadel.policy.PolicyEvaluator.Source> requiredPolicy(String action, String resource) {
                return resource.equals(KEY) ? java.util.Optional.of(new dev.citadel.policy.PolicyEvaluator.Source("the key policy",
                        dev.citadel.policy.PolicyParser.parse(policy, dev.citadel.policy.PolicyParser.Kind.RESOURCE))) : java.util.Optional.empty();
            }

            @Override
            public boolean grantAllows(Principal principal, String action, String resource, Map<String, List<String>> context) {
                return resource.equals(KEY) && action.equals("kms:Decrypt") && principal.arn().equals(grantee);
            }
        };
    }

    private static final String ACCOUNT_POLICY = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
            + "\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}";

    private AuthorizationDecision launcher(String action, String resource) {
        Principal p = Principal.service("citadel-marketplace.amazonaws.com", new dev.citadel.core.AccountId("111122223333"));
        return authorizer.authorize(new AuthorizationRequest(p, action, List.of(resource), Map.of()));
    }

    @Test
    void aServicePrincipalIsAllowedByItsGrantAlone() {
        authorizer.register(key(ACCOUNT_POLICY, "citadel-marketplace.amazonaws.com"));
        assertThat(launcher("kms:Decrypt", KEY).allowed()).isTrue();
        assertThat(launcher("kms:Encrypt", KEY).allowed()).as("an operation the grant does not name").isFalse();
    }

    @Test
    void aServicePrincipalWithoutGrantIsNotAllowedByTheAccountsKeyPolicy() {
        authorizer.register(key(ACCOUNT_POLICY, "someone-else.amazonaws.com"));
        AuthorizationDecision d = launcher("kms:Decrypt", KEY);
        assertThat(d.allowed()).isFalse();
        assertThat(d.reason()).contains("no resource-based policy or grant allows the kms:Decrypt action");
    }

    @Test
    void aServicePrincipalIsRefusedResourcesWithoutPolicyOrGrantAndEverything() {
        authorizer.register(key(ACCOUNT_POLICY, "citadel-marketplace.amazonaws.com"));
        assertThat(launcher("kms:Decrypt", "*").allowed()).isFalse();
        assertThat(launcher("iam:CreateUser", "arn:aws:iam::111122223333:user/x").allowed()).as("IAM policies never speak for it").isFalse();
    }

    @Test
    void anExplicitDenyInTheKeyPolicyWinsOverTheGrant() {
        authorizer.register(key("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Principal\":\"*\","
                + "\"Action\":\"kms:Decrypt\",\"Resource\":\"*\"}]}", "citadel-marketplace.amazonaws.com"));
        assertThat(launcher("kms:Decrypt", KEY).allowed()).isFalse();
    }

    @Test
    void aKeyPolicyMayAllowTheServicePrincipalByName() {
        authorizer.register(key("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":"
                + "\"citadel-marketplace.amazonaws.com\"},\"Action\":\"kms:Decrypt\",\"Resource\":\"*\"}]}", "nobody.amazonaws.com"));
        assertThat(launcher("kms:Decrypt", KEY).allowed()).isTrue();
    }

    @Test
    void onlyServicePrincipalNamesMakeServicePrincipals() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Principal.service("arn:aws:iam::111122223333:root",
                new dev.citadel.core.AccountId("111122223333"))).isInstanceOf(IllegalArgumentException.class);
    }
}
