package dev.citadel.metadata;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.SQLException;
import org.flywaydb.core.Flyway;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.HandleCallback;
import org.jdbi.v3.core.Jdbi;

/**
 * The relational metadata store: a connection pool, the schema brought up to date by Flyway, and
 * Jdbi on top. SQLite runs in WAL mode with {@code synchronous=FULL} (a commit is on disk before
 * it is acknowledged), foreign keys on, and every transaction begun {@code IMMEDIATE} so that
 * concurrent writers queue on the busy timeout instead of deadlocking on a lock upgrade; its files
 * are readable by their owner only. PostgreSQL runs the same migrations and SQL.
 */
public final class MetadataStore implements AutoCloseable {
    private final HikariDataSource pool;
    private final Jdbi jdbi;
    private final Dialect dialect;

    private MetadataStore(HikariDataSource pool, Jdbi jdbi, Dialect dialect) {
        this.pool = pool;
        this.jdbi = jdbi;
        this.dialect = dialect;
    }

    public static MetadataStore open(MetadataConfig config) {
        Dialect dialect = config.dialect();
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(config.jdbcUrl());
        hc.setPoolName("citadel-metadata");
        hc.setMaximumPoolSize(config.maxPoolSize());
        hc.setMinimumIdle(1);
        if (dialect == Dialect.SQLITE) {
            Path file = Path.of(config.jdbcUrl().substring("jdbc:sqlite:".length()));
            prepareSqliteFile(file);
            hc.addDataSourceProperty("journal_mode", "WAL");
            hc.addDataSourceProperty("synchronous", "FULL");
            hc.addDataSourceProperty("foreign_keys", "true");
            hc.addDataSourceProperty("busy_timeout", "30000");
            hc.addDataSourceProperty("transaction_mode", "IMMEDIATE");
        } else {
            hc.setUsername(config.user());
            if (config.password().length() > 0) {
                hc.setPassword(config.password().revealUtf8());
            }
        }
        HikariDataSource pool = new HikariDataSource(hc);
        try {
            Flyway.configure()
                    .dataSource(pool)
                    .locations("classpath:db/migration")
                    .placeholders(dialect.placeholders())
                    .load()
                    .migrate();
            if (dialect == Dialect.SQLITE) {
                restrictSqliteSidecars(Path.of(config.jdbcUrl().substring("jdbc:sqlite:".length())));
            }
            return new MetadataStore(pool, Jdbi.create(pool), dialect);
        } catch (RuntimeException e) {
            pool.close();
            throw e;
        }
    }

    public Jdbi jdbi() {
        return jdbi;
    }

    public Dialect dialect() {
        return dialect;
    }

    /** Runs {@code work} in one transaction, translating uniqueness violations into {@link DuplicateKeyException}. */
    public <T> T inTransaction(HandleCallback<T, RuntimeException> work) {
        try {
            return jdbi.inTransaction(work);
        } catch (RuntimeException e) {
            throw translate(e);
        }
    }

    /** Runs a read outside an explicit transaction. */
    public <T> T read(HandleCallback<T, RuntimeException> work) {
        try (Handle h = jdbi.open()) {
            return work.withHandle(h);
        }
    }

    static RuntimeException translate(RuntimeException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql) {
                boolean pgUnique = "23505".equals(sql.getSQLState());
                String msg = String.valueOf(sql.getMessage());
                boolean sqliteUnique = msg.contains("SQLITE_CONSTRAINT_UNIQUE") || msg.contains("SQLITE_CONSTRAINT_PRIMARYKEY");
                if (pgUnique || sqliteUnique) {
                    return new DuplicateKeyException("duplicate key", e);
                }
            }
        }
        return e;
    }

    private static void prepareSqliteFile(Path file) {
        try {
            Path dir = file.toAbsolutePath().getParent();
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir);
            }
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            if (!Files.exists(file)) {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the metadata file " + file, e);
        }
    }

    private static void restrictSqliteSidecars(Path file) {
        for (String suffix : new String[] {"", "-wal", "-shm"}) {
            Path p = Path.of(file + suffix);
            try {
                if (Files.exists(p)) {
                    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-------"));
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot restrict " + p, e);
            }
        }
    }

    @Override
    public void close() {
        pool.close();
    }
}
