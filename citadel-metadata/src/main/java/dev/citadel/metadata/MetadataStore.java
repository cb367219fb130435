package dev.citadel.metadata;

import static java.util.Objects.requireNonNull;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.citadel.metadata.internal.Sql;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.flywaydb.core.Flyway;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.HandleCallback;
import org.jdbi.v3.core.HandleConsumer;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.StatementContext;
import org.jdbi.v3.core.statement.StatementExceptions;

/**
 * The relational metadata store: a HikariCP pool, the schema brought up to date by Flyway from
 * {@code classpath:db/migration}, and Jdbi on top. Repositories take a {@link Handle}, so a caller
 * composes several of them in one {@link #inTransaction transaction}.
 *
 * <p>SQLite runs in WAL mode with {@code synchronous=FULL} (a commit is on disk before it is
 * acknowledged), foreign keys on and a busy timeout, and every transaction begins
 * {@code IMMEDIATE}: it takes the write lock at its start, so concurrent writers queue on the busy
 * timeout instead of failing with {@code SQLITE_BUSY} when two of them try to upgrade a read lock.
 * Reads outside a transaction ({@link #read}) never wait for writers. Directories the store creates
 * are {@code 0700} and the database file with its {@code -wal} and {@code -shm} companions {@code 0600}.
 *
 * <p>PostgreSQL runs the same migrations and SQL at its default isolation, READ COMMITTED; a
 * read-then-write rule that spans rows (such as "at most two access keys per user") locks its
 * parent row first, as {@code IamRepository.lockUser} does.
 */
public final class MetadataStore implements AutoCloseable {
    static final int SQLITE_BUSY_TIMEOUT_MILLIS = 30_000;
    private static final String OWNER_ONLY_DIRECTORY = "rwx------";
    private static final String OWNER_ONLY_FILE = "rw-------";

    private final HikariDataSource pool;
    private final Jdbi jdbi;
    private final Dialect dialect;

    private MetadataStore(HikariDataSource pool, Dialect dialect) {
        this.pool = pool;
        this.jdbi = Jdbi.create(pool);
        // the driver's message and the SQL, but not the bound values (e-mail addresses, sealed secrets,
        // policies), so that they stay out of logs
        jdbi.getConfig(StatementExceptions.class).setMessageRendering(e -> Optional.ofNullable(e.getCause()).map(Throwable::getMessage)
                .orElse("statement failed")
                + Optional.ofNullable(e.getStatementContext()).map(StatementContext::getRawSql).map(sql -> " [statement: " + sql + "]")
                        .orElse(""));
        this.dialect = dialect;
    }

    /** Connects, migrates the schema to the latest version and returns the open store. */
    public static MetadataStore open(MetadataConfig config) {
        requireNonNull(config, "config is null");
        Dialect dialect = config.dialect();
        HikariConfig hikari = new HikariConfig();
        hikari.setPoolName("citadel-metadata");
        hikari.setJdbcUrl(config.jdbcUrl());
        hikari.setMaximumPoolSize(config.maxPoolSize());
        hikari.setMinimumIdle(1);
        if (dialect == Dialect.SQLITE) {
            prepareSqliteFile(config.sqliteFile());
            hikari.addDataSourceProperty("journal_mode", "WAL");
            hikari.addDataSourceProperty("synchronous", "FULL");
            hikari.addDataSourceProperty("foreign_keys", "true");
            hikari.addDataSourceProperty("busy_timeout", Integer.toString(SQLITE_BUSY_TIMEOUT_MILLIS));
            hikari.addDataSourceProperty("transaction_mode", "IMMEDIATE");
        } else {
            if (!config.user().isEmpty()) {
                hikari.setUsername(config.user());
            }
            hikari.addDataSourceProperty("logServerErrorDetail", "false");
            if (config.password().length() > 0) {
                hikari.setPassword(config.password().revealUtf8());
            }
        }
        HikariDataSource pool = new HikariDataSource(hikari);
        try {
            Flyway.configure()
                    .dataSource(pool)
                    .locations("classpath:db/migration")
                    .placeholders(dialect.placeholders())
                    .failOnMissingLocations(true)
                    .load()
                    .migrate();
            if (dialect == Dialect.SQLITE) {
                restrictSqliteFiles(config.sqliteFile());
            }
            return new MetadataStore(pool, dialect);
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

    /**
     * Runs {@code work} in one transaction: committed if it returns, rolled back if it throws.
     * A uniqueness violation surfaces as {@link DuplicateKeyException}.
     */
    public <T> T inTransaction(HandleCallback<T, RuntimeException> work) {
        try {
            return jdbi.inTransaction(work);
        } catch (RuntimeException e) {
            throw Sql.translate(e);
        }
    }

    /** {@link #inTransaction} for work without a result. */
    public void useTransaction(HandleConsumer<RuntimeException> work) {
        inTransaction(h -> {
            work.useHandle(h);
            return null;
        });
    }

    /** Runs reads on a handle in auto-commit mode: each statement sees the latest committed state. */
    public <T> T read(HandleCallback<T, RuntimeException> work) {
        try (Handle h = jdbi.open()) {
            return work.withHandle(h);
        }
    }

    @Override
    public void close() {
        pool.close();
    }

    private static void prepareSqliteFile(Path file) {
        try {
            createDirectories(file.toAbsolutePath().getParent());
            if (!Files.exists(file)) {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(OWNER_ONLY_FILE)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the metadata database " + file, e);
        }
    }

    /** Creates the missing directories owner-only; directories that exist are left as they are. */
    private static void createDirectories(Path dir) throws IOException {
        List<Path> missing = new ArrayList<>();
        for (Path p = dir; p != null && !Files.isDirectory(p); p = p.getParent()) {
            missing.addFirst(p);
        }
        for (Path p : missing) {
            Files.createDirectory(p, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(OWNER_ONLY_DIRECTORY)));
        }
    }

    private static void restrictSqliteFiles(Path file) {
        for (String suffix : List.of("", "-wal", "-shm")) {
            Path p = Path.of(file + suffix);
            try {
                if (Files.exists(p)) {
                    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(OWNER_ONLY_FILE));
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot make " + p + " readable by its owner only", e);
            }
        }
    }
}
