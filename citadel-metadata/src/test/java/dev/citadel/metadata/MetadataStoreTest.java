package dev.citadel.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.metadata.accounts.Account;
import dev.citadel.metadata.accounts.AccountRepository;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class MetadataStoreTest {
    static final List<String> TABLES = List.of("accounts", "audit_events", "audit_index_state", "cloudtrail_delivery", "cloudtrail_digest_chain", "cloudtrail_log_files", "cloudtrail_signing_keys", "cloudtrail_trails", "create_account_requests", "ecr_blobs", "ecr_images", "ecr_repositories", "ecr_tags", "ecr_uploads", "iam_access_keys", "iam_attached_policies",
            "iam_group_members", "iam_groups", "iam_inline_policies", "iam_mfa_devices", "iam_policies", "iam_policy_versions", "iam_roles",
            "iam_tags", "iam_users", "kms_aliases", "kms_grants", "kms_key_versions", "kms_keys", "kms_tags", "logs_chunks", "logs_streams", "marketplace_artifacts", "marketplace_listings", "marketplace_subscriptions", "marketplace_usage", "org_account_parents", "org_policies", "org_policy_attachments", "org_policy_types", "org_units",
            "organizations", "s3_buckets", "s3_object_versions", "s3_upload_parts", "s3_uploads", "s3_version_parts", "sagemaker_entities", "sagemaker_jobs", "vulndb_advisories", "vulndb_affected");
    static final List<String> VERSIONS = List.of("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20", "21", "22", "23");

    @Nested
    class OnSqlite extends Contract {
        @Override
        protected MetadataConfig newConfig(Path dir) {
            return sqlite(dir);
        }

        @Test
        void everyTableIsStrict() {
            List<String> strict = store.read(h -> h.createQuery("SELECT name FROM pragma_table_list WHERE schema = 'main' AND strict = 1 "
                    + "ORDER BY name").mapTo(String.class).list());
            assertThat(strict).containsExactlyElementsOf(TABLES);
            List<String> sql = store.read(h -> h.createQuery("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'flyway%'")
                    .mapTo(String.class).list());
            assertThat(sql).hasSize(TABLES.size()).allSatisfy(s -> assertThat(s).endsWith(") STRICT"));
        }

        @Test
        void strictTableRefusesAValueOfTheWrongType() {
            assertThatThrownBy(() -> store.useTransaction(h -> h.execute("INSERT INTO accounts (id, arn, name, email, status, "
                    + "joined_method, joined_at) VALUES ('222222222222', 'a', 'n', 'e@example.com', 'ACTIVE', 'CREATED', 'yesterday')")))
                    .hasMessageContaining("cannot store TEXT value in INTEGER column accounts.joined_at");
        }

        @Test
        void connectionsUseWalFullSyncForeignKeysAndABusyTimeout() {
            Map<String, Object> pragmas = store.read(h -> Map.of(
                    "journal_mode", h.createQuery("PRAGMA journal_mode").mapTo(String.class).one(),
                    "synchronous", h.createQuery("PRAGMA synchronous").mapTo(Integer.class).one(),
                    "foreign_keys", h.createQuery("PRAGMA foreign_keys").mapTo(Integer.class).one(),
                    "busy_timeout", h.createQuery("PRAGMA busy_timeout").mapTo(Integer.class).one()));
            assertThat(pragmas).containsEntry("journal_mode", "wal").containsEntry("synchronous", 2).containsEntry("foreign_keys", 1)
                    .containsEntry("busy_timeout", MetadataStore.SQLITE_BUSY_TIMEOUT_MILLIS);
        }

        @Test
        void databaseFilesAreOwnerOnlyInAnOwnerOnlyDirectory() throws Exception {
            Path db = tempDir.resolve("metadata/citadel.db");
            store.useTransaction(h -> new AccountRepository(h).updateAccountName(MGMT, "touch the WAL"));
            for (Path p : List.of(db, Path.of(db + "-wal"), Path.of(db + "-shm"))) {
                assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(p))).as(p.toString()).isEqualTo("rw-------");
            }
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(db.getParent()))).isEqualTo("rwx------");
        }

        @Test
        void existingDirectoryKeepsItsPermissions() throws Exception {
            Path shared = Files.createDirectory(tempDir.resolve("shared"),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
            Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxr-xr-x"));
            try (MetadataStore other = MetadataStore.open(new MetadataConfig("jdbc:sqlite:" + shared.resolve("x.db"), "",
                    config.password(), 2))) {
                assertThat(other.dialect()).isEqualTo(Dialect.SQLITE);
            }
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(shared))).isEqualTo("rwxr-xr-x");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(shared.resolve("x.db")))).isEqualTo("rw-------");
        }

        @Test
        void concurrentReadThenWriteTransactionsNeitherDeadlockNorLoseInserts() throws Exception {
            int threads = 8;
            int perThread = 40;
            runConcurrently(threads, t -> {
                for (int i = 0; i < perThread; i++) {
                    String id = String.format("9%02d%09d", t, i);
                    store.useTransaction(h -> {
                        AccountRepository r = new AccountRepository(h);
                        if (r.account(id).isEmpty()) {
                            r.insertAccount(account(id, id + "@example.com"));
                        }
                    });
                }
            });
            assertThat(store.<Integer>read(h -> h.createQuery("SELECT COUNT(*) FROM accounts").mapTo(Integer.class).one()))
                    .isEqualTo(1 + threads * perThread);
        }

        @Test
        void concurrentReadModifyWriteLosesNoUpdate() throws Exception {
            store.useTransaction(h -> new AccountRepository(h).updateAccountName(MGMT, "0"));
            int threads = 8;
            int perThread = 25;
            runConcurrently(threads, t -> {
                for (int i = 0; i < perThread; i++) {
                    store.useTransaction(h -> {
                        AccountRepository r = new AccountRepository(h);
                        int n = Integer.parseInt(r.account(MGMT).orElseThrow().name());
                        r.updateAccountName(MGMT, Integer.toString(n + 1));
                    });
                }
            });
            assertThat(store.read(h -> new AccountRepository(h).account(MGMT)).orElseThrow().name())
                    .isEqualTo(Integer.toString(threads * perThread));
        }
    }

    @Nested
    class OnPostgres extends Contract {
        @Override
        protected MetadataConfig newConfig(Path dir) {
            return postgres();
        }

        @Test
        void placeholdersBecomeBigintByteaAndByteOrderKeys() {
            Map<String, String> types = store.read(h -> h.createQuery("SELECT column_name, data_type FROM information_schema.columns "
                    + "WHERE table_name = 'iam_access_keys' AND column_name IN ('secret_sealed', 'created_at')")
                    .map((rs, ctx) -> Map.entry(rs.getString(1), rs.getString(2))).list()
                    .stream().collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue)));
            assertThat(types).containsExactlyInAnyOrderEntriesOf(Map.of("secret_sealed", "bytea", "created_at", "bigint"));
            assertThat(store.<String>read(h -> h.createQuery("SELECT collation_name FROM information_schema.columns "
                    + "WHERE table_name = 'iam_users' AND column_name = 'name_key'").mapTo(String.class).one())).isEqualTo("C");
        }

        @Test
        void storeConnectsAsARoleThatIsNotASuperuser() {
            assertThat(store.<Boolean>read(h -> h.createQuery("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").mapTo(Boolean.class).one()))
                    .isFalse();
        }
    }

    abstract static class Contract extends StoreTestBase {
        @Test
        void migrationsApplyEveryVersionAndCreateEveryTable() {
            List<String> versions = store.read(h -> h.createQuery("SELECT version FROM flyway_schema_history WHERE success = :ok "
                    + "AND version IS NOT NULL ORDER BY installed_rank").bind("ok", true).mapTo(String.class).list());
            assertThat(versions).containsExactlyElementsOf(VERSIONS);
            for (String table : TABLES) {
                assertThat(store.<Integer>read(h -> h.createQuery("SELECT COUNT(*) FROM " + table).mapTo(Integer.class).one())).as(table)
                        .isEqualTo(table.equals("accounts") ? 1 : 0);
            }
        }

        @Test
        void reopeningMigratesNothingAndKeepsTheData() {
            store.close();
            store = MetadataStore.open(config);
            assertThat(store.<Integer>read(h -> h.createQuery("SELECT COUNT(*) FROM flyway_schema_history").mapTo(Integer.class).one()))
                    .isEqualTo(VERSIONS.size());
            assertThat(store.<Optional<Account>>read(h -> new AccountRepository(h).account(MGMT))).isPresent();
        }

        @Test
        void dialectIsTheConfiguredOne() {
            assertThat(store.dialect()).isEqualTo(config.dialect());
        }

        @Test
        void failedTransactionChangesNothing() {
            assertThatThrownBy(() -> store.useTransaction(h -> {
                new AccountRepository(h).insertAccount(account("555555555555", "e@example.com"));
                throw new IllegalStateException("boom");
            })).isInstanceOf(IllegalStateException.class).hasMessage("boom");
            assertThat(store.<Optional<Account>>read(h -> new AccountRepository(h).account("555555555555"))).isEmpty();
        }

        @Test
        void duplicateKeyThroughRawJdbiIsTranslatedAtTheTransactionBoundary() {
            assertThatThrownBy(() -> store.useTransaction(h -> h.execute("INSERT INTO accounts (id, arn, name, email, status, joined_method, "
                    + "joined_at) VALUES ('222222222222', 'a', 'n', 'management@example.com', 'ACTIVE', 'CREATED', 0)")))
                    .isInstanceOfSatisfying(DuplicateKeyException.class,
                            e -> assertThat(e.constraint()).isEqualTo(AccountRepository.ACCOUNT_EMAIL));
        }

        @Test
        void errorMessagesLeaveTheBoundValuesOut() {
            Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(() -> store.useTransaction(h -> {
                new AccountRepository(h).insertAccount(account("222222222222", "management@example.com"));
            }));
            assertThat(thrown).isInstanceOf(DuplicateKeyException.class);
            for (Throwable t = thrown; t != null; t = t.getCause()) {
                assertThat(String.valueOf(t.getMessage())).as(t.getClass().getName()).doesNotContain("management@example.com")
                        .doesNotContain("222222222222");
            }
            assertThat(thrown.getCause()).hasMessageContaining("[statement: INSERT INTO accounts");
        }

        @Test
        void checkConstraintRefusesAnUnknownStatusThatBypassesTheRecord() {
            assertThatThrownBy(() -> store.useTransaction(h -> h.execute("UPDATE accounts SET status = 'CLOSED'")))
                    .isNotInstanceOf(DuplicateKeyException.class);
            assertThat(store.read(h -> new AccountRepository(h).account(MGMT)).map(Account::status)).contains("ACTIVE");
        }
    }

    interface Worker {
        void run(int thread) throws Exception;
    }

    static void runConcurrently(int threads, Worker worker) throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    go.await();
                    worker.run(thread);
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : futures) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
