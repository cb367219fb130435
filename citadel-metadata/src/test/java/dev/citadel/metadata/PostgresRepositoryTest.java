package dev.citadel.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The same migrations and SQL on a real PostgreSQL 15 server. */
class PostgresRepositoryTest extends RepositoryContract {
    private static final AtomicInteger DATABASES = new AtomicInteger();

    @Override
    protected MetadataStore open() {
        return MetadataStore.open(PostgresServer.shared().config("citadel_test_" + DATABASES.incrementAndGet()));
    }

    @Test
    void migrationsRanOnPostgres() {
        assertThat(store.dialect()).isEqualTo(Dialect.POSTGRESQL);
        assertThat(store.<Integer>read(h -> h.createQuery("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public' "
                + "AND table_name IN ('accounts','organizations','create_account_requests','iam_users','iam_roles','iam_access_keys',"
                + "'iam_attached_policies')").mapTo(Integer.class).one())).isEqualTo(7);
        assertThat(store.<String>read(h -> h.createQuery("SELECT data_type FROM information_schema.columns WHERE table_name = 'iam_access_keys' "
                + "AND column_name = 'secret_sealed'").mapTo(String.class).one())).isEqualTo("bytea");
    }
}
