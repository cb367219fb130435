package dev.citadel.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.metadata.accounts.Account;
import dev.citadel.metadata.accounts.AccountRepository;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteRepositoryTest extends RepositoryContract {
    @TempDir
    Path dir;

    @Override
    protected MetadataStore open() {
        return MetadataStore.open(MetadataConfig.embedded(dir));
    }

    @Test
    void tablesAreStrictAndTheJournalIsWal() {
        List<String> sql = store.read(h -> h.createQuery("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'flyway%'")
                .mapTo(String.class).list());
        assertThat(sql).hasSizeGreaterThanOrEqualTo(7).allSatisfy(s -> assertThat(s).endsWith("STRICT"));
        assertThat(store.<String>read(h -> h.createQuery("PRAGMA journal_mode").mapTo(String.class).one())).isEqualToIgnoringCase("wal");
        assertThat(store.<Integer>read(h -> h.createQuery("PRAGMA foreign_keys").mapTo(Integer.class).one())).isEqualTo(1);
    }

    @Test
    void databaseFileIsOwnerOnly() throws Exception {
        Path db = dir.resolve("metadata/citadel.db");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(db))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(db.getParent()))).isEqualTo("rwx------");
    }

    @Test
    void concurrentWritersNeitherDeadlockNorLoseWrites() throws Exception {
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            int id = t;
            threads.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 50; i++) {
                    String account = String.format("9%02d%09d", id, i);
                    store.inTransaction(h -> {
                        AccountRepository r = new AccountRepository(h);
                        r.account(account);
                        r.insertAccount(new Account(account, "arn", "n", account + "@example.com", "ACTIVE", "CREATED", T));
                        return null;
                    });
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(store.<Integer>read(h -> h.createQuery("SELECT COUNT(*) FROM accounts").mapTo(Integer.class).one())).isEqualTo(401);
    }

    @Test
    void configHidesThePassword() {
        MetadataConfig c = new MetadataConfig("jdbc:postgresql://db/x", "u", dev.citadel.core.SecretBytes.ofUtf8("hunter2"), 4);
        assertThat(c.toString()).doesNotContain("hunter2").contains("(set)");
        assertThat(c.dialect()).isEqualTo(Dialect.POSTGRESQL);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new MetadataConfig("jdbc:mysql://x", "", c.password(), 4))
                .isInstanceOf(IllegalArgumentException.class);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new MetadataConfig("jdbc:sqlite:x", "", c.password(), 0))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
