package dev.citadel.metadata.iam;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.metadata.DuplicateKeyException;
import dev.citadel.metadata.MetadataConfig;
import dev.citadel.metadata.Page;
import dev.citadel.metadata.StoreTestBase;
import dev.citadel.metadata.accounts.OrganizationPolicyRepository;
import dev.citadel.metadata.iam.ManagedPolicyRepository.ManagedPolicy;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** Managed policies and versions, tags and boundaries, MFA devices (V4) and organization policies (V5), on both dialects. */
class PoliciesTagsMfaTest {
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
        static ManagedPolicy policy(String name, String path) {
            return new ManagedPolicy(MGMT, name, uniqueId("ANPA"), path, "arn:aws:iam::" + MGMT + ":policy" + path + name, "", "v1", 2, T, T, 0);
        }

        @Test
        void policiesVersionsDefaultsListingAndDeletion() {
            ManagedPolicy readers = policy("Readers", "/team/");
            store.useTransaction(h -> {
                ManagedPolicyRepository repo = new ManagedPolicyRepository(h);
                repo.insert(readers, "{\"v\":1}");
                repo.insert(policy("writers", "/"), "{\"w\":1}");
                assertThat(repo.addVersion(readers.arn(), "{\"v\":2}", T.plusSeconds(1), false)).isEqualTo("v2");
                assertThat(repo.addVersion(readers.arn(), "{\"v\":3}", T.plusSeconds(2), true)).isEqualTo("v3");
                new IamRepository(h).insertUser(user(MGMT, "bob", "/"));
                new IamRepository(h).attachPolicy(MGMT, "user", "bob", readers.arn());
            });
            assertThatThrownBy(() -> store.useTransaction(h -> new ManagedPolicyRepository(h).insert(policy("READERS", "/"), "{}")))
                    .isInstanceOfSatisfying(DuplicateKeyException.class, e -> assertThat(e.constraint()).isEqualTo(ManagedPolicyRepository.POLICY_NAME));
            assertThat(store.<Optional<String>>read(h -> new ManagedPolicyRepository(h).defaultDocument(readers.arn()))).contains("{\"v\":3}");
            ManagedPolicy read = store.<Optional<ManagedPolicy>>read(h -> new ManagedPolicyRepository(h).byArn(MGMT, readers.arn())).orElseThrow();
            assertThat(read.defaultVersion()).isEqualTo("v3");
            assertThat(read.attachments()).isEqualTo(1);
            assertThat(store.<List<ManagedPolicyRepository.Version>>read(h -> new ManagedPolicyRepository(h).versions(readers.arn())))
                    .extracting(ManagedPolicyRepository.Version::versionId).containsExactly("v3", "v2", "v1");
            Page<ManagedPolicy> team = store.read(h -> new ManagedPolicyRepository(h).list(MGMT, "/team/", false, Optional.empty(), 10));
            assertThat(team.items()).extracting(ManagedPolicy::policyName).containsExactly("Readers");
            Page<ManagedPolicy> attached = store.read(h -> new ManagedPolicyRepository(h).list(MGMT, "/", true, Optional.empty(), 10));
            assertThat(attached.items()).extracting(ManagedPolicy::policyName).containsExactly("Readers");
            Page<ManagedPolicy> first = store.read(h -> new ManagedPolicyRepository(h).list(MGMT, "/", false, Optional.empty(), 1));
            Page<ManagedPolicy> second = store.read(h -> new ManagedPolicyRepository(h).list(MGMT, "/", false, first.nextToken(), 1));
            assertThat(first.items()).extracting(ManagedPolicy::policyName).containsExactly("Readers");
            assertThat(second.items()).extracting(ManagedPolicy::policyName).containsExactly("writers");
            assertThat(second.nextToken()).isEmpty();
            store.useTransaction(h -> {
                ManagedPolicyRepository repo = new ManagedPolicyRepository(h);
                assertThat(repo.setDefault(readers.arn(), "v1", T)).isTrue();
                assertThat(repo.deleteVersion(readers.arn(), "v2")).isTrue();
                assertThat(repo.deleteVersion(readers.arn(), "v2")).isFalse();
                assertThat(repo.addVersion(readers.arn(), "{\"v\":4}", T, false)).as("numbers are never reused").isEqualTo("v4");
                new IamRepository(h).detachPolicy(MGMT, "user", "bob", readers.arn());
                assertThat(repo.delete(MGMT, readers.arn())).isTrue();
            });
            assertThat(store.<Optional<ManagedPolicy>>read(h -> new ManagedPolicyRepository(h).byArn(MGMT, readers.arn()))).isEmpty();
        }

        @Test
        void tagsAreCaseInsensitiveByKeyAndBoundariesCount() {
            store.useTransaction(h -> {
                new IamRepository(h).insertUser(user(MGMT, "Bob", "/"));
                IamTagRepository tags = new IamTagRepository(h);
                tags.tag(MGMT, "user", "bob", Map.of("Team", "vision", "cost", "1"));
                tags.tag(MGMT, "user", "BOB", Map.of("team", "speech"));
                tags.untag(MGMT, "user", "bob", List.of("COST", "absent"));
                assertThat(tags.setBoundary(MGMT, "user", "bob", Optional.of("arn:aws:iam::aws:policy/ReadOnlyAccess"))).isTrue();
                assertThat(tags.setBoundary(MGMT, "user", "nobody", Optional.of("arn:aws:iam::aws:policy/ReadOnlyAccess"))).isFalse();
            });
            assertThat(store.<Map<String, String>>read(h -> new IamTagRepository(h).tags(MGMT, "user", "Bob"))).containsExactly(Map.entry("team", "speech"));
            assertThat(store.<Optional<String>>read(h -> new IamTagRepository(h).boundary(MGMT, "user", "bob"))).contains("arn:aws:iam::aws:policy/ReadOnlyAccess");
            assertThat(store.<Integer>read(h -> new IamTagRepository(h).boundaryUses(MGMT, "arn:aws:iam::aws:policy/ReadOnlyAccess"))).isEqualTo(1);
            store.useTransaction(h -> new IamTagRepository(h).setBoundary(MGMT, "user", "bob", Optional.empty()));
            assertThat(store.<Optional<String>>read(h -> new IamTagRepository(h).boundary(MGMT, "user", "bob"))).isEmpty();
        }

        @Test
        void mfaDevicesEnableOnceAndAcceptEachStepOnce() {
            String serial = "arn:aws:iam::" + MGMT + ":mfa/phone";
            store.useTransaction(h -> {
                new IamRepository(h).insertUser(user(MGMT, "Bob", "/"));
                new MfaDeviceRepository(h).insert(serial, MGMT, "/phone", new byte[] {1, 2, 3}, T);
            });
            assertThatThrownBy(() -> store.useTransaction(h -> new MfaDeviceRepository(h).insert(serial + "2", MGMT, "/phone", new byte[] {4}, T)))
                    .isInstanceOfSatisfying(DuplicateKeyException.class, e -> assertThat(e.constraint()).isEqualTo(MfaDeviceRepository.DEVICE_NAME));
            assertThat(store.<List<MfaDeviceRepository.MfaDevice>>read(h -> new MfaDeviceRepository(h).devices(MGMT, Optional.of(false)))).hasSize(1);
            store.useTransaction(h -> {
                MfaDeviceRepository repo = new MfaDeviceRepository(h);
                assertThat(repo.enable(MGMT, serial, "bob", 100, T)).isTrue();
                assertThat(repo.enable(MGMT, serial, "bob", 101, T)).as("already assigned").isFalse();
                assertThat(repo.acceptStep(serial, 100)).as("the step that enabled it").isFalse();
                assertThat(repo.acceptStep(serial, 101)).isTrue();
                assertThat(repo.acceptStep(serial, 101)).as("a replay").isFalse();
                assertThat(repo.delete(MGMT, serial)).as("assigned devices are not deleted").isFalse();
            });
            MfaDeviceRepository.MfaDevice d = store.<List<MfaDeviceRepository.MfaDevice>>read(h -> new MfaDeviceRepository(h).devicesOfUser(MGMT, "BOB"))
                    .getFirst();
            assertThat(d.userName()).contains("Bob");
            assertThat(d.seedSealed()).containsExactly(1, 2, 3);
            store.useTransaction(h -> {
                MfaDeviceRepository repo = new MfaDeviceRepository(h);
                assertThat(repo.deactivate(MGMT, serial, "bob")).isTrue();
                assertThat(repo.delete(MGMT, serial)).isTrue();
            });
        }

        @Test
        void organizationalUnitsNestAndAccountsMove() {
            var top = new dev.citadel.metadata.accounts.OrganizationUnitRepository.Unit("ou-abcd-11111111", "arn:ou1", "top", "r-abcd");
            var inner = new dev.citadel.metadata.accounts.OrganizationUnitRepository.Unit("ou-abcd-22222222", "arn:ou2", "inner", top.id());
            store.useTransaction(h -> {
                var units = new dev.citadel.metadata.accounts.OrganizationUnitRepository(h);
                units.insert(top);
                units.insert(inner);
                units.setParent(MGMT, Optional.of(inner.id()));
            });
            assertThatThrownBy(() -> store.useTransaction(h -> new dev.citadel.metadata.accounts.OrganizationUnitRepository(h).insert(
                    new dev.citadel.metadata.accounts.OrganizationUnitRepository.Unit("ou-abcd-33333333", "arn:ou3", "top", "r-abcd"))))
                    .isInstanceOfSatisfying(DuplicateKeyException.class, e -> assertThat(e.constraint())
                            .isEqualTo(dev.citadel.metadata.accounts.OrganizationUnitRepository.UNIT_NAME));
            assertThat(store.<List<String>>read(h -> new dev.citadel.metadata.accounts.OrganizationUnitRepository(h).path(MGMT)))
                    .containsExactly(top.id(), inner.id());
            assertThat(store.<List<String>>read(h -> new dev.citadel.metadata.accounts.OrganizationUnitRepository(h).accountsIn(inner.id())))
                    .containsExactly(MGMT);
            assertThat(store.<List<String>>read(h -> new dev.citadel.metadata.accounts.OrganizationUnitRepository(h).accountsUnderRoot())).isEmpty();
            store.useTransaction(h -> new dev.citadel.metadata.accounts.OrganizationUnitRepository(h).setParent(MGMT, Optional.empty()));
            assertThat(store.<List<String>>read(h -> new dev.citadel.metadata.accounts.OrganizationUnitRepository(h).accountsUnderRoot()))
                    .containsExactly(MGMT);
            assertThat(store.<List<String>>read(h -> new dev.citadel.metadata.accounts.OrganizationUnitRepository(h).path(MGMT))).isEmpty();
        }

        @Test
        void organizationPoliciesAttachToTargets() {
            String root = "r-abcd";
            store.useTransaction(h -> {
                OrganizationPolicyRepository repo = new OrganizationPolicyRepository(h);
                assertThat(repo.typeEnabled(root, OrganizationPolicyRepository.SCP)).isFalse();
                assertThat(repo.enableType(root, OrganizationPolicyRepository.SCP)).isTrue();
                assertThat(repo.enableType(root, OrganizationPolicyRepository.SCP)).isFalse();
                repo.insert(new OrganizationPolicyRepository.OrgPolicy("p-12345678", "arn:p", OrganizationPolicyRepository.SCP, "deny", "", false,
                        "{\"d\":1}"));
                assertThat(repo.attach("p-12345678", MGMT)).isTrue();
                assertThat(repo.attach("p-12345678", MGMT)).isFalse();
                assertThat(repo.attach("p-12345678", root)).isTrue();
            });
            assertThatThrownBy(() -> store.useTransaction(h -> new OrganizationPolicyRepository(h).insert(new OrganizationPolicyRepository.OrgPolicy(
                    "p-87654321", "arn:q", OrganizationPolicyRepository.SCP, "deny", "", false, "{}"))))
                    .isInstanceOfSatisfying(DuplicateKeyException.class, e -> assertThat(e.constraint()).isEqualTo(OrganizationPolicyRepository.POLICY_NAME));
            assertThat(store.<List<String>>read(h -> new OrganizationPolicyRepository(h).contentsAttachedTo(MGMT))).containsExactly("{\"d\":1}");
            assertThat(store.<List<String>>read(h -> new OrganizationPolicyRepository(h).targets("p-12345678"))).containsExactlyInAnyOrder(MGMT, root);
            store.useTransaction(h -> new OrganizationPolicyRepository(h).detachAll(OrganizationPolicyRepository.SCP));
            assertThat(store.<List<String>>read(h -> new OrganizationPolicyRepository(h).targets("p-12345678"))).isEmpty();
            assertThat(store.<Boolean>inTransaction(h -> new OrganizationPolicyRepository(h).delete("p-12345678"))).isTrue();
        }
    }
}
