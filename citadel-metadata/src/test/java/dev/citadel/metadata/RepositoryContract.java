package dev.citadel.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.metadata.accounts.Account;
import dev.citadel.metadata.accounts.AccountRepository;
import dev.citadel.metadata.accounts.CreateAccountRequest;
import dev.citadel.metadata.accounts.Organization;
import dev.citadel.metadata.iam.AccessKey;
import dev.citadel.metadata.iam.IamRepository;
import dev.citadel.metadata.iam.IamRole;
import dev.citadel.metadata.iam.IamUser;
import dev.citadel.metadata.iam.SigningIdentity;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The repositories' behaviour, run on each dialect by a subclass that supplies the store. */
abstract class RepositoryContract {
    static final Instant T = Instant.parse("2026-11-22T10:00:00.123Z");
    protected MetadataStore store;

    protected abstract MetadataStore open();

    @BeforeEach
    void setUp() {
        store = open();
        store.inTransaction(h -> {
            new AccountRepository(h).insertAccount(new Account("111111111111", "arn:1", "management", "m@example.com", "ACTIVE", "CREATED", T));
            return null;
        });
    }

    @AfterEach
    void tearDown() {
        store.close();
    }

    private static Account account(String id, String email) {
        return new Account(id, "arn:aws:organizations::111111111111:account/o-abcdefghij/" + id, "n" + id, email, "ACTIVE", "CREATED", T);
    }

    @Test
    void organizationRoundTrips() {
        Organization o = new Organization("o-abcdefghij", "arn:o", "ALL", "111111111111", "m@example.com", T);
        store.inTransaction(h -> {
            new AccountRepository(h).insertOrganization(o);
            return null;
        });
        assertThat(store.<Optional<Organization>>read(h -> new AccountRepository(h).organization())).contains(o);
    }

    @Test
    void accountsPageThroughInIdOrder() {
        store.inTransaction(h -> {
            AccountRepository r = new AccountRepository(h);
            r.insertAccount(account("333333333333", "c@example.com"));
            r.insertAccount(account("222222222222", "b@example.com"));
            return null;
        });
        List<String> ids = new ArrayList<>();
        Optional<String> token = Optional.empty();
        do {
            Optional<String> t = token;
            Page<Account> page = store.read(h -> new AccountRepository(h).listAccounts(t, 1));
            assertThat(page.items()).hasSize(1);
            page.items().forEach(a -> ids.add(a.id()));
            token = page.nextToken();
        } while (token.isPresent());
        assertThat(ids).containsExactly("111111111111", "222222222222", "333333333333");
    }

    @Test
    void garbageTokenIsRefused() {
        assertThatThrownBy(() -> store.read(h -> new AccountRepository(h).listAccounts(Optional.of("%%%"), 5)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.read(h -> new AccountRepository(h).listAccounts(Optional.of("eHl6"), 5)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void emailIsUnique() {
        assertThatThrownBy(() -> store.inTransaction(h -> {
            new AccountRepository(h).insertAccount(account("444444444444", "m@example.com"));
            return null;
        })).isInstanceOf(DuplicateKeyException.class);
        assertThat(store.<Optional<Account>>read(h -> new AccountRepository(h).account("444444444444"))).isEmpty();
    }

    @Test
    void createAccountRequestsRoundTripWithOptionalFields() {
        CreateAccountRequest failed = new CreateAccountRequest("car-" + "a".repeat(32), "x", "x@example.com", "FAILED", Optional.empty(),
                Optional.of("EMAIL_ALREADY_EXISTS"), T, Optional.of(T));
        CreateAccountRequest running = new CreateAccountRequest("car-" + "b".repeat(32), "y", "y@example.com", "IN_PROGRESS",
                Optional.empty(), Optional.empty(), T, Optional.empty());
        store.inTransaction(h -> {
            new AccountRepository(h).insertCreateAccountRequest(failed);
            new AccountRepository(h).insertCreateAccountRequest(running);
            return null;
        });
        assertThat(store.<Optional<CreateAccountRequest>>read(h -> new AccountRepository(h).createAccountRequest(failed.id()))).contains(failed);
        assertThat(store.<Optional<CreateAccountRequest>>read(h -> new AccountRepository(h).createAccountRequest(running.id()))).contains(running);
    }

    @Test
    void userNamesAreUniqueWithoutRegardToCase() {
        store.inTransaction(h -> {
            new IamRepository(h).insertUser(new IamUser("111111111111", "Alice", "AIDA1", "/", "arn:alice", T));
            return null;
        });
        assertThatThrownBy(() -> store.inTransaction(h -> {
            new IamRepository(h).insertUser(new IamUser("111111111111", "alice", "AIDA2", "/", "arn:alice2", T));
            return null;
        })).isInstanceOf(DuplicateKeyException.class);
        assertThat(store.<Optional<IamUser>>read(h -> new IamRepository(h).user("111111111111", "ALICE")).map(IamUser::userName)).contains("Alice");
    }

    @Test
    void accessKeysJoinTheirUserAndKeepSealedBytesExactly() {
        byte[] sealed = new byte[256];
        for (int i = 0; i < sealed.length; i++) {
            sealed[i] = (byte) i;
        }
        store.inTransaction(h -> {
            IamRepository iam = new IamRepository(h);
            iam.insertUser(new IamUser("111111111111", "Bob", "AIDABOB", "/", "arn:bob", T));
            iam.insertAccessKey(new AccessKey("AKIABOB1", "111111111111", "bob", sealed, "Active", T));
            iam.insertAccessKey(new AccessKey("AKIABOB2", "111111111111", "bob", sealed, "Inactive", T));
            return null;
        });
        SigningIdentity id = store.read(h -> new IamRepository(h).signingIdentity("AKIABOB1")).orElseThrow();
        assertThat(id.key().secretSealed()).isEqualTo(sealed);
        assertThat(id.user().userId()).isEqualTo("AIDABOB");
        assertThat(store.<Integer>read(h -> new IamRepository(h).countAccessKeys("111111111111", "BOB"))).isEqualTo(2);
        assertThat(store.<Optional<SigningIdentity>>read(h -> new IamRepository(h).signingIdentity("AKIANONE"))).isEmpty();
    }

    @Test
    void accessKeyOfAnUnknownUserIsRefused() {
        assertThatThrownBy(() -> store.inTransaction(h -> {
            new IamRepository(h).insertAccessKey(new AccessKey("AKIAGHOST", "111111111111", "ghost", new byte[1], "Active", T));
            return null;
        })).isInstanceOf(RuntimeException.class);
        assertThat(store.<Optional<SigningIdentity>>read(h -> new IamRepository(h).signingIdentity("AKIAGHOST"))).isEmpty();
    }

    @Test
    void rolesAndAttachedPoliciesRoundTrip() {
        IamRole role = new IamRole("111111111111", "OrganizationAccountAccessRole", "AROA1", "/", "arn:role", "{}", "d", 3600, T);
        store.inTransaction(h -> {
            IamRepository iam = new IamRepository(h);
            iam.insertRole(role);
            iam.attachPolicy("111111111111", "role", "OrganizationAccountAccessRole", "arn:aws:iam::aws:policy/AdministratorAccess");
            return null;
        });
        assertThat(store.<Optional<IamRole>>read(h -> new IamRepository(h).role("111111111111", "organizationaccountaccessrole"))).contains(role);
        assertThat(store.<List<String>>read(h -> new IamRepository(h).attachedPolicies("111111111111", "role", "OrganizationAccountAccessRole")))
                .containsExactly("arn:aws:iam::aws:policy/AdministratorAccess");
    }

    @Test
    void failedTransactionChangesNothing() {
        assertThatThrownBy(() -> store.inTransaction(h -> {
            new AccountRepository(h).insertAccount(account("555555555555", "e@example.com"));
            throw new IllegalStateException("boom");
        })).hasMessage("boom");
        assertThat(store.<Optional<Account>>read(h -> new AccountRepository(h).account("555555555555"))).isEmpty();
    }
}
