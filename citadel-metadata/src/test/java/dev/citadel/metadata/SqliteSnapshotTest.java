package dev.citadel.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteSnapshotTest {
    @TempDir
    Path dir;

    private static void createCounters(MetadataStore store) {
        store.useTransaction(h -> h.execute("CREATE TABLE backup_test (n INTEGER PRIMARY KEY, twice INTEGER NOT NULL) STRICT"));
    }

    @Test
    void latestSchemaVersionIsTheHighestMigration() {
        assertThat(SqliteSnapshot.latestSchemaVersion()).isEqualTo(Integer.parseInt(MetadataStoreTest.VERSIONS.getLast()));
    }

    @Test
    void aSnapshotTakenWhileAWriterCommitsHoldsWholeTransactionsOnly() throws Exception {
        try (MetadataStore store = MetadataStore.open(MetadataConfig.embedded(dir.resolve("live")))) {
            createCounters(store);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong committed = new AtomicLong();
            ExecutorService writer = Executors.newSingleThreadExecutor();
            try {
                // Each transaction inserts two rows; a torn copy would hold an odd number of them.
                Future<?> writes = writer.submit(() -> {
                    for (long n = 0; !stop.get(); n += 2) {
                        long first = n;
                        store.useTransaction(h -> {
                            h.execute("INSERT INTO backup_test (n, twice) VALUES (?, ?)", first, first * 2);
                            h.execute("INSERT INTO backup_test (n, twice) VALUES (?, ?)", first + 1, (first + 1) * 2);
                        });
                        committed.set(n + 2);
                    }
                });
                while (committed.get() < 20) {
                    Thread.sleep(5);
                }
                Path copy = dir.resolve("copy.db");
                long before = committed.get();
                int version = SqliteSnapshot.take(MetadataConfig.embedded(dir.resolve("live")).sqliteFile(), copy);
                stop.set(true);
                writes.get();

                assertThat(version).isEqualTo(SqliteSnapshot.latestSchemaVersion());
                long rows = SqliteSnapshot.read(copy, h -> h.createQuery("SELECT count(*) FROM backup_test").mapTo(Long.class).one());
                assertThat(rows % 2).isZero();
                assertThat(rows).isGreaterThanOrEqualTo(before);
                long wrong = SqliteSnapshot.read(copy, h -> h.createQuery("SELECT count(*) FROM backup_test WHERE twice <> n * 2")
                        .mapTo(Long.class).one());
                assertThat(wrong).isZero();
            } finally {
                stop.set(true);
                writer.shutdownNow();
            }
        }
    }

    @Test
    void readingASnapshotChangesNoByteOfIt() throws Exception {
        Path live = MetadataConfig.embedded(dir.resolve("live")).sqliteFile();
        try (MetadataStore store = MetadataStore.open(MetadataConfig.embedded(dir.resolve("live")))) {
            createCounters(store);
        }
        // The store is closed: its -wal and -shm files are gone, and a read-only copy is still possible.
        Path copy = dir.resolve("copy.db");
        SqliteSnapshot.take(live, copy);
        byte[] bytes = Files.readAllBytes(copy);
        long rows = SqliteSnapshot.read(copy, h -> h.createQuery("SELECT count(*) FROM backup_test").mapTo(Long.class).one());
        assertThat(rows).isZero();
        assertThat(SqliteSnapshot.schemaVersion(copy)).isEqualTo(SqliteSnapshot.latestSchemaVersion());
        assertThat(Files.readAllBytes(copy)).isEqualTo(bytes);
        assertThat(Files.list(dir).map(p -> p.getFileName().toString()).toList()).containsExactlyInAnyOrder("live", "copy.db");
    }

    @Test
    void aSnapshotRefusesAnExistingTargetAndAMissingDatabase() throws Exception {
        Path live = MetadataConfig.embedded(dir.resolve("live")).sqliteFile();
        assertThatThrownBy(() -> SqliteSnapshot.take(live, dir.resolve("copy.db"))).hasMessageContaining("no metadata database");
        assertThat(Files.exists(live)).isFalse();
        try (MetadataStore store = MetadataStore.open(MetadataConfig.embedded(dir.resolve("live")))) {
            Files.writeString(dir.resolve("taken.db"), "x");
            assertThatThrownBy(() -> SqliteSnapshot.take(live, dir.resolve("taken.db"))).hasMessageContaining("exists");
            assertThat(Files.readString(dir.resolve("taken.db"))).isEqualTo("x");
        }
    }

    @Test
    void aDatabaseFlywayNeverTouchedIsAtVersionZero() throws Exception {
        Path empty = dir.resolve("empty.db");
        java.sql.DriverManager.getConnection("jdbc:sqlite:" + empty).close();
        assertThat(SqliteSnapshot.schemaVersion(empty)).isZero();
    }
}
