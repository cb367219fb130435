package dev.citadel.metadata.iam;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.metadata.MetadataConfig;
import dev.citadel.metadata.StoreTestBase;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** Inline policies (migration V2) on both dialects. */
class InlinePolicyTest {
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
        @Test
        void putReplacesGetReadsListOrdersDeleteRemoves() {
            store.useTransaction(h -> {
                IamRepository iam = new IamRepository(h);
                iam.insertUser(user(MGMT, "Bob", "/"));
                iam.putInlinePolicy(MGMT, "user", "bob", "zeta", "{\"v\":1}");
                iam.putInlinePolicy(MGMT, "user", "BOB", "alpha", "{\"v\":2}");
                iam.putInlinePolicy(MGMT, "user", "bob", "zeta", "{\"v\":3}");
            });
            Map<String, String> all = store.read(h -> new IamRepository(h).inlinePolicies(MGMT, "user", "Bob"));
            assertThat(all).containsExactly(Map.entry("alpha", "{\"v\":2}"), Map.entry("zeta", "{\"v\":3}"));
            assertThat(store.<java.util.Optional<String>>read(h -> new IamRepository(h).inlinePolicy(MGMT, "user", "bob", "zeta"))).contains("{\"v\":3}");
            assertThat(store.<Boolean>inTransaction(h -> new IamRepository(h).deleteInlinePolicy(MGMT, "user", "bob", "zeta"))).isTrue();
            assertThat(store.<Boolean>inTransaction(h -> new IamRepository(h).deleteInlinePolicy(MGMT, "user", "bob", "zeta"))).isFalse();
            assertThat(store.<Map<String, String>>read(h -> new IamRepository(h).inlinePolicies(MGMT, "user", "bob")).keySet()).containsExactly("alpha");
        }
    }
}
