package dev.citadel.metadata.iam;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.metadata.DuplicateKeyException;
import dev.citadel.metadata.MetadataConfig;
import dev.citadel.metadata.StoreTestBase;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** IAM groups and membership (migration V3) on both dialects. */
class GroupTest {
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
        private static IamGroup group(String name) {
            return new IamGroup(MGMT, name, uniqueId("AGPA"), "/", "arn:aws:iam::" + MGMT + ":group/" + name, T);
        }

        @Test
        void membersAndGroupsRoundTripWithoutRegardToCase() {
            store.useTransaction(h -> {
                IamRepository iam = new IamRepository(h);
                iam.insertUser(user(MGMT, "Carol", "/"));
                iam.insertUser(user(MGMT, "dave", "/"));
                iam.insertGroup(group("Readers"));
                iam.insertGroup(group("admins"));
                assertThat(iam.addUserToGroup(MGMT, "readers", "CAROL")).isTrue();
                assertThat(iam.addUserToGroup(MGMT, "Readers", "carol")).isFalse();
                iam.addUserToGroup(MGMT, "admins", "carol");
                iam.addUserToGroup(MGMT, "readers", "dave");
            });
            assertThat(store.<List<IamGroup>>read(h -> new IamRepository(h).groupsForUser(MGMT, "carol")).stream().map(IamGroup::groupName))
                    .containsExactly("admins", "Readers");
            assertThat(store.<List<IamUser>>read(h -> new IamRepository(h).groupMembers(MGMT, "READERS")).stream().map(IamUser::userName))
                    .containsExactly("Carol", "dave");
            assertThat(store.<Boolean>inTransaction(h -> new IamRepository(h).removeUserFromGroup(MGMT, "readers", "dave"))).isTrue();
            assertThat(store.<List<IamUser>>read(h -> new IamRepository(h).groupMembers(MGMT, "readers"))).hasSize(1);
        }

        @Test
        void groupNamesAreUniqueWithoutRegardToCase() {
            store.useTransaction(h -> new IamRepository(h).insertGroup(group("Readers")));
            assertThatThrownBy(() -> store.useTransaction(h -> new IamRepository(h).insertGroup(group("readers"))))
                    .isInstanceOfSatisfying(DuplicateKeyException.class, e -> assertThat(e.constraint()).isEqualTo(IamRepository.GROUP_NAME));
        }

        @Test
        void membershipNeedsAnExistingUserAndGroup() {
            store.useTransaction(h -> new IamRepository(h).insertGroup(group("readers")));
            assertThatThrownBy(() -> store.useTransaction(h -> new IamRepository(h).addUserToGroup(MGMT, "readers", "ghost")))
                    .isInstanceOf(RuntimeException.class);
            assertThat(store.<List<IamUser>>read(h -> new IamRepository(h).groupMembers(MGMT, "readers"))).isEmpty();
        }
    }
}
