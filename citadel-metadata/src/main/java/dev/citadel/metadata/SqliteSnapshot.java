package dev.citadel.metadata;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.HandleCallback;
import org.jdbi.v3.core.Jdbi;
import org.sqlite.SQLiteConfig;

/**
 * Copies of the embedded SQLite metadata store for backups: {@link #take} writes a transactionally
 * consistent copy of a live database with {@code VACUUM INTO} over a read-only connection (in WAL
 * mode readers never block the server's writers, so Citadel keeps serving; the copy is one read
 * transaction's view, compacted, in rollback-journal mode, which the store turns back into WAL
 * when it opens it). {@link #read} runs repository code on such a copy without migrating or
 * changing it, and {@link #schemaVersion} reads the Flyway version a database is at.
 *
 * <p>Nothing here runs Flyway's {@code migrate} on the live database: a backup made by another
 * build of Citadel must not change the schema under a running server.
 */
public final class SqliteSnapshot {
    private SqliteSnapshot() {
    }

    /**
     * Writes a consistent copy of the SQLite database {@code live} to {@code target} (which must
     * not exist; its directory must), fsyncs it and returns the schema version of the copy.
     */
    public static int take(Path live, Path target) {
        requireNonNull(live, "live is null");
        requireNonNull(target, "target is null");
        if (!Files.isRegularFile(live)) {
            throw new IllegalStateException("no metadata database at " + live);
        }
        if (Files.exists(target)) {
            throw new IllegalStateException(target + " exists");
        }
        try (Connection c = readOnly(live); Statement s = c.createStatement()) {
            // VACUUM INTO takes a string literal; the only quoting it needs is doubled single quotes.
            s.execute("VACUUM INTO '" + target.toAbsolutePath().toString().replace("'", "''") + "'");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot copy the metadata database " + live + ": " + e.getMessage(), e);
        }
        try (FileChannel ch = FileChannel.open(target, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot sync " + target, e);
        }
        return schemaVersion(target);
    }

    /** The highest schema version Flyway applied successfully to the SQLite database {@code file}; 0 when none. */
    public static int schemaVersion(Path file) {
        requireNonNull(file, "file is null");
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException("no metadata database at " + file);
        }
        try (Connection c = readOnly(file); Statement s = c.createStatement()) {
            try (ResultSet tables = s.executeQuery("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'flyway_schema_history'")) {
                if (!tables.next() || tables.getInt(1) == 0) {
                    return 0;
                }
            }
            int max = 0;
            try (ResultSet rs = s.executeQuery("SELECT version FROM flyway_schema_history WHERE success = 1 AND version IS NOT NULL")) {
                while (rs.next()) {
                    max = Math.max(max, version(rs.getString(1)));
                }
            }
            return max;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the schema version of " + file + ": " + e.getMessage(), e);
        }
    }

    /** The schema version this build's migrations bring a store to (the highest {@code V<n>__} of {@code db/migration}). */
    public static int latestSchemaVersion() {
        // Flyway resolves the migrations exactly as MetadataStore.open does; an empty in-memory database has applied none.
        MigrationInfo[] all = Flyway.configure()
                .dataSource("jdbc:sqlite::memory:", null, null)
                .locations("classpath:db/migration")
                .placeholders(Dialect.SQLITE.placeholders())
                .failOnMissingLocations(true)
                .load()
                .info()
                .all();
        int max = 0;
        for (MigrationInfo m : all) {
            if (m.getVersion() != null) {
                max = Math.max(max, version(m.getVersion().getVersion()));
            }
        }
        return max;
    }

    /**
     * Runs {@code work} on a read-only connection to the SQLite database {@code file} (a snapshot),
     * so that repositories read it as they read the store; nothing is migrated or written.
     */
    public static <T> T read(Path file, HandleCallback<T, RuntimeException> work) {
        requireNonNull(file, "file is null");
        requireNonNull(work, "work is null");
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException("no metadata database at " + file);
        }
        Jdbi jdbi = Jdbi.create(() -> readOnly(file));
        try (Handle h = jdbi.open()) {
            return work.withHandle(h);
        }
    }

    private static Connection readOnly(Path file) throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        config.setReadOnly(true);
        config.setBusyTimeout(MetadataStore.SQLITE_BUSY_TIMEOUT_MILLIS);
        return config.createConnection(Dialect.SQLITE.urlPrefix() + file.toAbsolutePath());
    }

    private static int version(String text) {
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new IllegalStateException("schema version '" + text + "' is not a whole number");
        }
    }
}
