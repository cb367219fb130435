package dev.citadel.metadata.accounts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.metadata.DuplicateKeyException;
import dev.citadel.metadata.MetadataConfig;
import dev.citadel.metadata.Page;
import dev.citadel.metadata.StoreTestBase;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class AccountRepositoryTest {
    @Nested
    class OnSqlite extends Contract {
        @Override
        protected MetadataConfig newConfig(Path dir) {
            return sqlite(dir);
        }
    }

    @Nested
    class OnPostgres extends Contract {
        @Override
        protected MetadataConfig newConfig(Path dir) {
            return postgres();
        }
    }

    abstract static class Contract extends StoreTestBase {
        static final Organization ORG = new Organization("o-abcdefghij", "arn:aws:organizations::" + MGMT + ":organization/o-abcdefghij",
                "ALL", MGMT, "management@example.com", T);
        static final String CAR_A = "car-" + "a".repeat(32);
        static final String CAR_B = "car-" + "b".repeat(32);
        static final String CAR_C = "car-" + "c".repeat(32);

        private <T> T read(Function<AccountRepository, T> query) {
            return store.read(h -> query.apply(new AccountRepository(h)));
        }

        private <T> Optional<T> find(Function<AccountRepository, Optional<T>> query) {
            return read(query);
        }

        private boolean test(Predicate<AccountRepository> query) {
            return store.read(h -> query.test(new AccountRepository(h)));
        }

        private boolean changed(Predicate<AccountRepository> work) {
            return store.inTransaction(h -> work.test(new AccountRepository(h)));
        }

        private void write(Consumer<AccountRepository> work) {
            store.useTransaction(h -> work.accept(new AccountRepository(h)));
        }

        private static CreateAccountRequest inProgress(String id, String email) {
            return new CreateAccountRequest(id, "new", email, "IN_PROGRESS", Optional.empty(), Optional.empty(), T, Optional.empty());
        }

        @Test
        void organizationIsAbsentBeforeItIsCreated() {
            assertThat(find(AccountRepository::organization)).isEmpty();
        }

        @Test
        void organizationRoundTrips() {
            write(r -> r.insertOrganization(ORG));
            assertThat(find(AccountRepository::organization)).contains(ORG);
        }

        @Test
        void secondOrganizationIsRefusedAsOrganizationExists() {
            write(r -> r.insertOrganization(ORG));
            Organization other = new Organization("o-zzzzzzzzzz", "arn:aws:organizations::" + MGMT + ":organization/o-zzzzzzzzzz", "ALL",
                    MGMT, "management@example.com", T);
            assertThatThrownBy(() -> write(r -> r.insertOrganization(other)))
                    .isInstanceOfSatisfying(DuplicateKeyException.class,
                            e -> assertThat(e.constraint()).isEqualTo(AccountRepository.ORGANIZATION_EXISTS));
            assertThat(find(AccountRepository::organization)).contains(ORG);
        }

        @Test
        void deletedOrganizationIsGoneAndItsAccountsStay() {
            write(r -> r.insertOrganization(ORG));
            assertThat(changed(r -> r.deleteOrganization(ORG.id()))).isTrue();
            assertThat(find(AccountRepository::organization)).isEmpty();
            assertThat(find(r -> r.account(MGMT))).isPresent();
            assertThat(changed(r -> r.deleteOrganization(ORG.id()))).isFalse();
        }

        @Test
        void accountRoundTripsByIdAndByEmail() {
            Account a = account("222222222222", "b@example.com");
            write(r -> r.insertAccount(a));
            assertThat(find(r -> r.account("222222222222"))).contains(a);
            assertThat(find(r -> r.accountByEmail("b@example.com"))).contains(a);
            assertThat(test(r -> r.emailInUse("b@example.com"))).isTrue();
            assertThat(test(r -> r.emailInUse("nobody@example.com"))).isFalse();
            assertThat(find(r -> r.account("999999999999"))).isEmpty();
        }

        @Test
        void instantsAreKeptToTheMillisecond() {
            Account a = new Account("222222222222", "arn:aws:organizations::" + MGMT + ":account/o-abcdefghij/222222222222", "b",
                    "b@example.com", "ACTIVE", "INVITED", Instant.parse("2026-01-02T03:04:05.678901234Z"));
            write(r -> r.insertAccount(a));
            assertThat(read(r -> r.account("222222222222")).orElseThrow().joinedAt()).isEqualTo(Instant.parse("2026-01-02T03:04:05.678Z"));
        }

        @Test
        void usedEmailIsRefusedAsAccountEmailAndNothingIsWritten() {
            assertThatThrownBy(() -> write(r -> {
                r.insertAccount(account("333333333333", "c@example.com"));
                r.insertAccount(account("444444444444", "management@example.com"));
            })).isInstanceOfSatisfying(DuplicateKeyException.class,
                    e -> assertThat(e.constraint()).isEqualTo(AccountRepository.ACCOUNT_EMAIL));
            assertThat(find(r -> r.account("333333333333"))).isEmpty();
            assertThat(find(r -> r.account("444444444444"))).isEmpty();
        }

        @Test
        void usedAccountIdIsRefusedAsAccountId() {
            assertThatThrownBy(() -> write(r -> r.insertAccount(account(MGMT, "other@example.com"))))
                    .isInstanceOfSatisfying(DuplicateKeyException.class, e -> assertThat(e.constraint()).isEqualTo(AccountRepository.ACCOUNT_ID));
        }

        @Test
        void accountsPageThroughInIdOrder() {
            write(r -> {
                r.insertAccount(account("333333333333", "c@example.com"));
                r.insertAccount(account("222222222222", "b@example.com"));
                r.insertAccount(account("044444444444", "d@example.com"));
            });
            List<String> ids = new ArrayList<>();
            List<Integer> sizes = new ArrayList<>();
            Optional<String> token = Optional.empty();
            do {
                Optional<String> t = token;
                Page<Account> page = read(r -> r.listAccounts(t, 3));
                page.items().forEach(a -> ids.add(a.id()));
                sizes.add(page.items().size());
                token = page.nextToken();
            } while (token.isPresent());
            assertThat(ids).containsExactly("044444444444", MGMT, "222222222222", "333333333333");
            assertThat(sizes).containsExactly(3, 1);
        }

        @Test
        void pageThatHoldsTheLastItemHasNoToken() {
            Page<Account> page = read(r -> r.listAccounts(Optional.empty(), 1));
            assertThat(page.items()).extracting(Account::id).containsExactly(MGMT);
            assertThat(page.nextToken()).isEmpty();
        }

        @Test
        void garbageTokenIsRefused() {
            String otherListing = Base64.getUrlEncoder().withoutPadding()
                    .encodeToString("v1:create-account-requests:1".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            for (String token : List.of("%%%", "eHl6", "", otherListing, "A".repeat(5000))) {
                assertThatThrownBy(() -> read(r -> r.listAccounts(Optional.of(token), 5))).as(token)
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessage("invalid pagination token");
            }
        }

        @Test
        void pageSizeMustBeOneTo1000() {
            assertThatThrownBy(() -> read(r -> r.listAccounts(Optional.empty(), 0)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessage("page size must be between 1 and 1000, got 0");
            assertThatThrownBy(() -> read(r -> r.listAccounts(Optional.empty(), 1001)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessage("page size must be between 1 and 1000, got 1001");
        }

        @Test
        void accountStatusAndNameUpdate() {
            assertThat(changed(r -> r.updateAccountStatus(MGMT, "SUSPENDED"))).isTrue();
            assertThat(changed(r -> r.updateAccountName(MGMT, "renamed"))).isTrue();
            Account a = read(r -> r.account(MGMT)).orElseThrow();
            assertThat(a.status()).isEqualTo("SUSPENDED");
            assertThat(a.name()).isEqualTo("renamed");
        }

        @Test
        void updateOfAnUnknownAccountReturnsFalse() {
            assertThat(changed(r -> r.updateAccountStatus("999999999999", "SUSPENDED"))).isFalse();
            assertThat(changed(r -> r.updateAccountName("999999999999", "x"))).isFalse();
        }

        @Test
        void unknownStatusIsRefusedBeforeAnyWrite() {
            assertThatThrownBy(() -> write(r -> r.updateAccountStatus(MGMT, "CLOSED")))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("account status must be one of [ACTIVE, PENDING_CLOSURE, SUSPENDED], got 'CLOSED'");
            assertThat(read(r -> r.account(MGMT)).orElseThrow().status()).isEqualTo("ACTIVE");
        }

        @Test
        void deletedAccountIsGoneAndItsCreateAccountRequestStillNamesIt() {
            Account a = account("222222222222", "b@example.com");
            CreateAccountRequest done = inProgress(CAR_A, "b@example.com").succeeded("222222222222", T);
            write(r -> {
                r.insertAccount(a);
                r.insertCreateAccountRequest(done);
            });
            assertThat(changed(r -> r.deleteAccount("222222222222"))).isTrue();
            assertThat(find(r -> r.account("222222222222"))).isEmpty();
            assertThat(find(r -> r.createAccountRequest(CAR_A))).contains(done);
        }

        @Test
        void createAccountRequestsRoundTripWithOptionalFields() {
            CreateAccountRequest failed = inProgress(CAR_A, "x@example.com").failed("EMAIL_ALREADY_EXISTS", T.plusSeconds(1));
            CreateAccountRequest running = inProgress(CAR_B, "y@example.com");
            write(r -> {
                r.insertCreateAccountRequest(failed);
                r.insertCreateAccountRequest(running);
            });
            assertThat(find(r -> r.createAccountRequest(CAR_A))).contains(failed);
            assertThat(find(r -> r.createAccountRequest(CAR_B))).contains(running);
            assertThat(find(r -> r.createAccountRequest(CAR_C))).isEmpty();
        }

        @Test
        void createAccountRequestIdIsUnique() {
            write(r -> r.insertCreateAccountRequest(inProgress(CAR_A, "x@example.com")));
            assertThatThrownBy(() -> write(r -> r.insertCreateAccountRequest(inProgress(CAR_A, "y@example.com"))))
                    .isInstanceOfSatisfying(DuplicateKeyException.class,
                            e -> assertThat(e.constraint()).isEqualTo(AccountRepository.CREATE_ACCOUNT_REQUEST_ID));
        }

        @Test
        void inProgressRequestCompletesOnceOnly() {
            CreateAccountRequest running = inProgress(CAR_A, "b@example.com");
            write(r -> {
                r.insertCreateAccountRequest(running);
                r.insertAccount(account("222222222222", "b@example.com"));
            });
            CreateAccountRequest done = running.succeeded("222222222222", T.plusSeconds(2));
            assertThat(changed(r -> r.completeCreateAccountRequest(done))).isTrue();
            assertThat(changed(r -> r.completeCreateAccountRequest(running.failed("INTERNAL_FAILURE", T))))
                    .isFalse();
            assertThat(find(r -> r.createAccountRequest(CAR_A))).contains(done);
        }

        @Test
        void createAccountRequestsListByState() {
            write(r -> {
                r.insertCreateAccountRequest(inProgress(CAR_C, "c@example.com"));
                r.insertCreateAccountRequest(inProgress(CAR_A, "a@example.com").failed("INVALID_EMAIL", T));
                r.insertCreateAccountRequest(inProgress(CAR_B, "b@example.com").failed("EMAIL_ALREADY_EXISTS", T));
            });
            assertThat(read(r -> r.listCreateAccountRequests(Set.of(), Optional.empty(), 10)).items())
                    .extracting(CreateAccountRequest::id).containsExactly(CAR_A, CAR_B, CAR_C);
            Page<CreateAccountRequest> failedFirst = read(r -> r.listCreateAccountRequests(Set.of("FAILED"), Optional.empty(), 1));
            assertThat(failedFirst.items()).extracting(CreateAccountRequest::id).containsExactly(CAR_A);
            Page<CreateAccountRequest> failedNext = read(r -> r.listCreateAccountRequests(Set.of("FAILED"), failedFirst.nextToken(), 1));
            assertThat(failedNext.items()).extracting(CreateAccountRequest::id).containsExactly(CAR_B);
            assertThat(failedNext.nextToken()).isEmpty();
            assertThat(read(r -> r.listCreateAccountRequests(Set.of("IN_PROGRESS", "SUCCEEDED"), Optional.empty(), 10)).items())
                    .extracting(CreateAccountRequest::id).containsExactly(CAR_C);
        }
    }
}
