package dev.citadel.metadata.sagemaker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.metadata.DuplicateKeyException;
import dev.citadel.metadata.MetadataConfig;
import dev.citadel.metadata.StoreTestBase;
import dev.citadel.metadata.sagemaker.ResourceRepository.Kind;
import dev.citadel.metadata.sagemaker.ResourceRepository.Resource;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** SageMaker's resources (V20, V21) on both dialects: every kind is accepted, names are unique per account and kind. */
class ResourceRepositoryTest {
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
        static Resource resource(String account, Kind kind, String name, String status) {
            return new Resource(account, kind, name, "arn:aws:sagemaker:us-east-1:" + account + ":x/" + name, status, Optional.empty(),
                    new byte[] {4, 5}, "{}", T, T);
        }

        private void insert(Resource r) {
            store.useTransaction(h -> new ResourceRepository(h).insert(r));
        }

        @Test
        void everyKindIsStoredAndNamesAreUniquePerAccountAndKind() {
            for (Kind kind : Kind.values()) {
                insert(resource("111111111111", kind, "same-name", "Pending"));
            }
            insert(resource("222222222222", Kind.ALGORITHM, "same-name", "Pending"));
            assertThatThrownBy(() -> insert(resource("111111111111", Kind.ALGORITHM, "same-name", "Completed")))
                    .isInstanceOf(DuplicateKeyException.class)
                    .satisfies(e -> assertThat(((DuplicateKeyException) e).constraint()).isEqualTo(ResourceRepository.RESOURCE_NAME));
            for (Kind kind : Kind.values()) {
                assertThat(store.<java.util.List<Resource>>read(h -> new ResourceRepository(h).resources("111111111111", kind))).hasSize(1);
            }
            assertThat(store.<java.util.List<Resource>>read(h -> new ResourceRepository(h).all(Kind.ALGORITHM))).hasSize(2);
        }

        @Test
        void onlyTheProductsBeingValidatedAreReadForValidation() {
            insert(resource("111111111111", Kind.ALGORITHM, "waiting", "Pending"));
            insert(resource("222222222222", Kind.ALGORITHM, "running", "InProgress"));
            insert(resource("111111111111", Kind.ALGORITHM, "done", "Completed"));
            insert(resource("111111111111", Kind.ALGORITHM, "broken", "Failed"));
            insert(resource("111111111111", Kind.MODEL_PACKAGE, "other-kind", "Pending"));
            assertThat(store.<java.util.List<Resource>>read(h -> new ResourceRepository(h).inStatus(Kind.ALGORITHM, "Pending", "InProgress")))
                    .extracting(Resource::name).containsExactlyInAnyOrder("waiting", "running");
        }

        @Test
        void anAlgorithmsStatusMovesOnlyFromTheStatusItWasReadIn() {
            Resource pending = resource("111111111111", Kind.ALGORITHM, "algo", "Pending");
            insert(pending);
            Resource running = pending.with("InProgress", Optional.empty(), new byte[] {6}, T.plusSeconds(1));
            assertThat(store.<Boolean>inTransaction(h -> new ResourceRepository(h).update(running, "Completed"))).isFalse();
            assertThat(store.<Boolean>inTransaction(h -> new ResourceRepository(h).update(running, "Pending"))).isTrue();
            Resource read = store.read(h -> new ResourceRepository(h).resource("111111111111", Kind.ALGORITHM, "algo")).orElseThrow();
            assertThat(read.status()).isEqualTo("InProgress");
            assertThat(read.bodySealed()).containsExactly(6);
            assertThat(store.<Boolean>inTransaction(h -> new ResourceRepository(h).delete("111111111111", Kind.ALGORITHM, "algo"))).isTrue();
        }
    }
}
