package dev.citadel.metadata.iam;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.metadata.DuplicateKeyException;
import dev.citadel.metadata.MetadataConfig;
import dev.citadel.metadata.Page;
import dev.citadel.metadata.StoreTestBase;
import dev.citadel.metadata.accounts.AccountRepository;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.ToIntFunction;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class IamRepositoryTest {
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
        static final String OTHER = "222222222222";
        static final String ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess";
        static final String READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess";

        private <T> T read(Function<IamRepository, T> query) {
            return store.read(h -> query.apply(new IamRepository(h)));
        }

        private <T> Optional<T> find(Function<IamRepository, Optional<T>> query) {
            return read(query);
        }

        private <T> List<T> list(Function<IamRepository, List<T>> query) {
            return read(query);
        }

        private int count(ToIntFunction<IamRepository> query) {
            return store.read(h -> query.applyAsInt(new IamRepository(h)));
        }

        private <T> T write(Function<IamRepository, T> work) {
            return store.inTransaction(h -> work.apply(new IamRepository(h)));
        }

        private boolean changed(Predicate<IamRepository> work) {
            return store.inTransaction(h -> work.test(new IamRepository(h)));
        }

        private void run(Consumer<IamRepository> work) {
            store.useTransaction(h -> work.accept(new IamRepository(h)));
        }

        private static byte[] sealed(int length) {
            byte[] bytes = new byte[length];
            for (int i = 0; i < length; i++) {
                bytes[i] = (byte) i;
            }
            return bytes;
        }

        @Test
        void userRoundTripsByNameInAnyCase() {
            IamUser alice = user(MGMT, "Alice", "/engineering/");
            run(iam -> iam.insertUser(alice));
            assertThat(find(iam -> iam.user(MGMT, "Alice"))).contains(alice);
            assertThat(find(iam -> iam.user(MGMT, "ALICE"))).contains(alice);
            assertThat(find(iam -> iam.user(MGMT, "bob"))).isEmpty();
        }

        @Test
        void userNamesAreUniqueWithoutRegardToCase() {
            run(iam -> iam.insertUser(user(MGMT, "Alice", "/")));
            assertThatThrownBy(() -> run(iam -> iam.insertUser(user(MGMT, "aLICE", "/"))))
                    .isInstanceOfSatisfying(DuplicateKeyException.class, e -> assertThat(e.constraint()).isEqualTo(IamRepository.USER_NAME));
            assertThat(read(iam -> iam.user(MGMT, "alice")).map(IamUser::userName)).contains("Alice");
        }

        @Test
        void sameUserNameInAnotherAccountIsAnotherUser() {
            store.useTransaction(h -> new AccountRepository(h).insertAccount(account(OTHER, "other@example.com")));
            run(iam -> {
                iam.insertUser(user(MGMT, "alice", "/"));
                iam.insertUser(user(OTHER, "alice", "/"));
            });
            assertThat(read(iam -> iam.user(OTHER, "alice")).map(IamUser::accountId)).contains(OTHER);
        }

        @Test
        void userIdIsUniqueAcrossAccounts() {
            store.useTransaction(h -> new AccountRepository(h).insertAccount(account(OTHER, "other@example.com")));
            IamUser alice = user(MGMT, "alice", "/");
            run(iam -> iam.insertUser(alice));
            IamUser twin = new IamUser(OTHER, "bob", alice.userId(), "/", "arn:aws:iam::" + OTHER + ":user/bob", T);
            assertThatThrownBy(() -> run(iam -> iam.insertUser(twin)))
                    .isInstanceOfSatisfying(DuplicateKeyException.class, e -> assertThat(e.constraint()).isEqualTo(IamRepository.USER_ID));
        }

        @Test
        void userOfAnUnknownAccountIsRefused() {
            assertThatThrownBy(() -> run(iam -> iam.insertUser(user("999999999999", "alice", "/"))))
                    .isNotInstanceOf(DuplicateKeyException.class);
            assertThat(find(iam -> iam.user("999999999999", "alice"))).isEmpty();
        }

        @Test
        void usersListInNameOrderFilteredByPathPrefix() {
            run(iam -> {
                iam.insertUser(user(MGMT, "carol", "/eng/"));
                iam.insertUser(user(MGMT, "Bob", "/eng/ml/"));
                iam.insertUser(user(MGMT, "alice", "/sales/"));
                iam.insertUser(user(MGMT, "dave", "/eng_x/"));
            });
            assertThat(read(iam -> iam.listUsers(MGMT, "/", Optional.empty(), 10)).items())
                    .extracting(IamUser::userName).containsExactly("alice", "Bob", "carol", "dave");
            Page<IamUser> first = read(iam -> iam.listUsers(MGMT, "/eng/", Optional.empty(), 1));
            assertThat(first.items()).extracting(IamUser::userName).containsExactly("Bob");
            Page<IamUser> second = read(iam -> iam.listUsers(MGMT, "/eng/", first.nextToken(), 1));
            assertThat(second.items()).extracting(IamUser::userName).containsExactly("carol");
            assertThat(second.nextToken()).isEmpty();
        }

        @Test
        void pathPrefixMustStartWithASlash() {
            assertThatThrownBy(() -> read(iam -> iam.listUsers(MGMT, "eng", Optional.empty(), 10)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("path prefix must match");
        }

        @Test
        void renamedUserKeepsItsKeysAndPolicies() {
            IamUser alice = user(MGMT, "alice", "/");
            AccessKey key = accessKey(MGMT, "alice", sealed(8), T);
            run(iam -> {
                iam.insertUser(alice);
                iam.insertAccessKey(key);
                iam.attachPolicy(MGMT, "user", "alice", ADMIN);
            });
            IamUser renamed = new IamUser(MGMT, "Alicia", alice.userId(), "/ops/", "arn:aws:iam::" + MGMT + ":user/ops/Alicia", T);
            assertThat(changed(iam -> iam.updateUser("ALICE", renamed))).isTrue();
            assertThat(find(iam -> iam.user(MGMT, "alice"))).isEmpty();
            assertThat(find(iam -> iam.user(MGMT, "alicia"))).contains(renamed);
            assertThat(read(iam -> iam.findAccessKey(key.accessKeyId())).orElseThrow().user()).isEqualTo(renamed);
            assertThat(list(iam -> iam.attachedPolicies(MGMT, "user", "Alicia"))).containsExactly(ADMIN);
            assertThat(list(iam -> iam.attachedPolicies(MGMT, "user", "alice"))).isEmpty();
        }

        @Test
        void updateOfAnUnknownUserReturnsFalse() {
            IamUser ghost = user(MGMT, "ghost", "/");
            assertThat(changed(iam -> iam.updateUser("ghost", ghost))).isFalse();
        }

        @Test
        void deletedUserTakesItsAttachmentsSoANewUserOfTheNameHasNone() {
            run(iam -> {
                iam.insertUser(user(MGMT, "alice", "/"));
                iam.attachPolicy(MGMT, "user", "alice", ADMIN);
            });
            assertThat(changed(iam -> iam.deleteUser(MGMT, "Alice"))).isTrue();
            run(iam -> iam.insertUser(user(MGMT, "alice", "/")));
            assertThat(list(iam -> iam.attachedPolicies(MGMT, "user", "alice"))).isEmpty();
            assertThat(changed(iam -> iam.deleteUser(MGMT, "nobody"))).isFalse();
        }

        @Test
        void userWithAccessKeysIsNotDeleted() {
            run(iam -> {
                iam.insertUser(user(MGMT, "alice", "/"));
                iam.insertAccessKey(accessKey(MGMT, "alice", sealed(8), T));
            });
            assertThatThrownBy(() -> write(iam -> iam.deleteUser(MGMT, "alice"))).isNotInstanceOf(DuplicateKeyException.class);
            assertThat(find(iam -> iam.user(MGMT, "alice"))).isPresent();
        }

        @Test
        void roleRoundTripsAndItsNameIsUniqueWithoutRegardToCase() {
            IamRole role = role(MGMT, "OrganizationAccountAccessRole", "/");
            run(iam -> iam.insertRole(role));
            assertThat(find(iam -> iam.role(MGMT, "organizationaccountaccessrole"))).contains(role);
            assertThatThrownBy(() -> run(iam -> iam.insertRole(role(MGMT, "ORGANIZATIONACCOUNTACCESSROLE", "/"))))
                    .isInstanceOfSatisfying(DuplicateKeyException.class, e -> assertThat(e.constraint()).isEqualTo(IamRepository.ROLE_NAME));
        }

        @Test
        void rolesListInNameOrderFilteredByPathPrefix() {
            run(iam -> {
                iam.insertRole(role(MGMT, "writer", "/service/"));
                iam.insertRole(role(MGMT, "Admin", "/"));
                iam.insertRole(role(MGMT, "reader", "/service/"));
            });
            assertThat(read(iam -> iam.listRoles(MGMT, "/", Optional.empty(), 10)).items())
                    .extracting(IamRole::roleName).containsExactly("Admin", "reader", "writer");
            assertThat(read(iam -> iam.listRoles(MGMT, "/service/", Optional.empty(), 10)).items())
                    .extracting(IamRole::roleName).containsExactly("reader", "writer");
        }

        @Test
        void roleDescriptionSessionAndTrustPolicyUpdate() {
            run(iam -> iam.insertRole(role(MGMT, "deployer", "/")));
            assertThat(changed(iam -> iam.updateRole(MGMT, "Deployer", "deploys", 7200))).isTrue();
            assertThat(changed(iam -> iam.updateAssumeRolePolicy(MGMT, "deployer", "{\"Statement\":[]}"))).isTrue();
            IamRole updated = read(iam -> iam.role(MGMT, "deployer")).orElseThrow();
            assertThat(updated.description()).isEqualTo("deploys");
            assertThat(updated.maxSessionDuration()).isEqualTo(7200);
            assertThat(updated.assumeRolePolicyDocument()).isEqualTo("{\"Statement\":[]}");
            assertThat(changed(iam -> iam.updateRole(MGMT, "nobody", "x", 3600))).isFalse();
        }

        @Test
        void sessionDurationOutsideOneToTwelveHoursIsRefused() {
            run(iam -> iam.insertRole(role(MGMT, "deployer", "/")));
            assertThatThrownBy(() -> write(iam -> iam.updateRole(MGMT, "deployer", "x", 43201)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("max session duration must be 3600 to 43200 seconds, got 43201");
        }

        @Test
        void deletedRoleTakesItsAttachments() {
            run(iam -> {
                iam.insertRole(role(MGMT, "deployer", "/"));
                iam.attachPolicy(MGMT, "role", "deployer", ADMIN);
            });
            assertThat(changed(iam -> iam.deleteRole(MGMT, "deployer"))).isTrue();
            assertThat(find(iam -> iam.role(MGMT, "deployer"))).isEmpty();
            assertThat(count(iam -> iam.countAttachedPolicies(MGMT, "role", "deployer"))).isZero();
        }

        @Test
        void findAccessKeyReturnsTheKeyAndItsUserWithTheSealedBytesExactly() {
            IamUser bob = user(MGMT, "Bob", "/");
            AccessKey key = accessKey(MGMT, "Bob", sealed(256), T);
            run(iam -> {
                iam.insertUser(bob);
                iam.insertAccessKey(key);
            });
            SigningIdentity found = read(iam -> iam.findAccessKey(key.accessKeyId())).orElseThrow();
            assertThat(found.key()).isEqualTo(key);
            assertThat(found.key().secretSealed()).isEqualTo(sealed(256));
            assertThat(found.key().active()).isTrue();
            assertThat(found.user()).isEqualTo(bob);
        }

        @Test
        void findAccessKeyOfAnUnknownIdIsEmpty() {
            assertThat(find(iam -> iam.findAccessKey("AKIA0000000000000000"))).isEmpty();
        }

        @Test
        void accessKeyOfAnUnknownUserIsRefused() {
            AccessKey ghost = accessKey(MGMT, "ghost", sealed(8), T);
            assertThatThrownBy(() -> run(iam -> iam.insertAccessKey(ghost))).isNotInstanceOf(DuplicateKeyException.class);
            assertThat(find(iam -> iam.findAccessKey(ghost.accessKeyId()))).isEmpty();
        }

        @Test
        void accessKeyIdIsUnique() {
            AccessKey key = accessKey(MGMT, "bob", sealed(8), T);
            run(iam -> {
                iam.insertUser(user(MGMT, "bob", "/"));
                iam.insertAccessKey(key);
            });
            assertThatThrownBy(() -> run(iam -> iam.insertAccessKey(key)))
                    .isInstanceOfSatisfying(DuplicateKeyException.class, e -> assertThat(e.constraint()).isEqualTo(IamRepository.ACCESS_KEY_ID));
        }

        @Test
        void accessKeysListOldestFirstAndCount() {
            AccessKey older = accessKey(MGMT, "bob", sealed(8), T);
            AccessKey newer = accessKey(MGMT, "bob", sealed(9), T.plusSeconds(60));
            run(iam -> {
                iam.insertUser(user(MGMT, "bob", "/"));
                iam.insertAccessKey(newer);
                iam.insertAccessKey(older);
            });
            assertThat(list(iam -> iam.accessKeys(MGMT, "BOB"))).containsExactly(older, newer);
            assertThat(count(iam -> iam.countAccessKeys(MGMT, "Bob"))).isEqualTo(2);
            assertThat(count(iam -> iam.countAccessKeys(MGMT, "nobody"))).isZero();
        }

        @Test
        void accessKeyStatusChangesOnlyThroughItsOwnUser() {
            AccessKey key = accessKey(MGMT, "bob", sealed(8), T);
            run(iam -> {
                iam.insertUser(user(MGMT, "bob", "/"));
                iam.insertUser(user(MGMT, "eve", "/"));
                iam.insertAccessKey(key);
            });
            assertThat(changed(iam -> iam.updateAccessKeyStatus(MGMT, "eve", key.accessKeyId(), "Inactive"))).isFalse();
            assertThat(changed(iam -> iam.updateAccessKeyStatus(MGMT, "bob", key.accessKeyId(), "Inactive"))).isTrue();
            assertThat(read(iam -> iam.findAccessKey(key.accessKeyId())).orElseThrow().key().status()).isEqualTo("Inactive");
        }

        @Test
        void deletedAccessKeyIsNotFound() {
            AccessKey key = accessKey(MGMT, "bob", sealed(8), T);
            run(iam -> {
                iam.insertUser(user(MGMT, "bob", "/"));
                iam.insertAccessKey(key);
            });
            assertThat(changed(iam -> iam.deleteAccessKey(MGMT, "eve", key.accessKeyId()))).isFalse();
            assertThat(changed(iam -> iam.deleteAccessKey(MGMT, "bob", key.accessKeyId()))).isTrue();
            assertThat(find(iam -> iam.findAccessKey(key.accessKeyId()))).isEmpty();
        }

        @Test
        void lastUseKeepsTheLatestInstant() {
            AccessKey key = accessKey(MGMT, "bob", sealed(8), T);
            run(iam -> {
                iam.insertUser(user(MGMT, "bob", "/"));
                iam.insertAccessKey(key);
            });
            Instant later = T.plusSeconds(600);
            assertThat(changed(iam -> iam.recordAccessKeyUse(key.accessKeyId(), later))).isTrue();
            assertThat(changed(iam -> iam.recordAccessKeyUse(key.accessKeyId(), T.plusSeconds(5)))).isFalse();
            assertThat(read(iam -> iam.findAccessKey(key.accessKeyId())).orElseThrow().key().lastUsedAt()).contains(later);
        }

        @Test
        void attachingAPolicyTwiceAttachesItOnce() {
            run(iam -> iam.insertUser(user(MGMT, "bob", "/")));
            assertThat(changed(iam -> iam.attachPolicy(MGMT, "user", "bob", ADMIN))).isTrue();
            assertThat(changed(iam -> iam.attachPolicy(MGMT, "user", "BOB", ADMIN))).isFalse();
            assertThat(list(iam -> iam.attachedPolicies(MGMT, "user", "bob"))).containsExactly(ADMIN);
        }

        @Test
        void detachedPolicyIsGone() {
            run(iam -> {
                iam.insertUser(user(MGMT, "bob", "/"));
                iam.attachPolicy(MGMT, "user", "bob", ADMIN);
                iam.attachPolicy(MGMT, "user", "bob", READ_ONLY);
            });
            assertThat(changed(iam -> iam.detachPolicy(MGMT, "user", "bob", ADMIN))).isTrue();
            assertThat(changed(iam -> iam.detachPolicy(MGMT, "user", "bob", ADMIN))).isFalse();
            assertThat(list(iam -> iam.attachedPolicies(MGMT, "user", "bob"))).containsExactly(READ_ONLY);
        }

        @Test
        void attachedPoliciesPageInArnOrderPerPrincipal() {
            run(iam -> {
                iam.insertUser(user(MGMT, "bob", "/"));
                iam.attachPolicy(MGMT, "user", "bob", READ_ONLY);
                iam.attachPolicy(MGMT, "user", "bob", ADMIN);
                iam.attachPolicy(MGMT, "role", "bob", "arn:aws:iam::aws:policy/OtherPrincipalType");
            });
            Page<String> first = read(iam -> iam.listAttachedPolicies(MGMT, "user", "bob", Optional.empty(), 1));
            Page<String> second = read(iam -> iam.listAttachedPolicies(MGMT, "user", "bob", first.nextToken(), 1));
            assertThat(first.items()).containsExactly(ADMIN);
            assertThat(second.items()).containsExactly(READ_ONLY);
            assertThat(second.nextToken()).isEmpty();
            assertThat(count(iam -> iam.countAttachedPolicies(MGMT, "user", "bob"))).isEqualTo(2);
        }

        @Test
        void unknownPrincipalTypeIsRefused() {
            assertThatThrownBy(() -> write(iam -> iam.attachPolicy(MGMT, "account", "bob", ADMIN)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("principal type must be one of [group, role, user], got 'account'");
        }

        @Test
        void atMostTwoKeysHoldWhenEightTransactionsRaceToAddOne() throws Exception {
            run(iam -> iam.insertUser(user(MGMT, "bob", "/")));
            int threads = 8;
            CountDownLatch go = new CountDownLatch(1);
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<Boolean>> results = new ArrayList<>();
                for (int i = 0; i < threads; i++) {
                    results.add(pool.submit(() -> {
                        go.await();
                        return write(iam -> {
                            iam.lockUser(MGMT, "bob");
                            if (iam.countAccessKeys(MGMT, "bob") >= 2) {
                                return false;
                            }
                            iam.insertAccessKey(accessKey(MGMT, "bob", sealed(8), T));
                            return true;
                        });
                    }));
                }
                go.countDown();
                int added = 0;
                for (Future<Boolean> f : results) {
                    added += f.get() ? 1 : 0;
                }
                assertThat(added).isEqualTo(2);
            } finally {
                pool.shutdownNow();
            }
            assertThat(count(iam -> iam.countAccessKeys(MGMT, "bob"))).isEqualTo(2);
        }
    }
}
