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
}
