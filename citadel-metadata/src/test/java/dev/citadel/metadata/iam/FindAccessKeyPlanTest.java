package dev.citadel.metadata.iam;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.metadata.MetadataConfig;
import dev.citadel.metadata.StoreTestBase;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The authentication hot path reads the key and its user through their primary keys, never by scanning. */
class FindAccessKeyPlanTest extends StoreTestBase {
    @Override
    protected MetadataConfig newConfig(Path dir) {
        return sqlite(dir);
    }

    @Test
    void findAccessKeyIsTwoPrimaryKeyLookups() {
        List<String> plan = store.read(h -> h.createQuery("EXPLAIN QUERY PLAN " + IamRepository.FIND_ACCESS_KEY)
                .bind("id", "AKIA0000000000000001")
                .map((rs, ctx) -> rs.getString("detail")).list());
        assertThat(plan).hasSize(2).noneMatch(step -> step.startsWith("SCAN"));
        assertThat(plan.get(0)).startsWith("SEARCH k USING INDEX sqlite_autoindex_iam_access_keys_1 (access_key_id=?)");
        assertThat(plan.get(1)).startsWith("SEARCH u USING INDEX sqlite_autoindex_iam_users_1 (account_id=? AND name_key=?)");
    }
}
