package dev.citadel.metadata;

import static java.util.Objects.requireNonNull;

import dev.citadel.core.SecretBytes;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * Where the metadata store lives: an embedded SQLite file ({@code jdbc:sqlite:/abs/path.db}) or a
 * PostgreSQL server shared by several nodes ({@code jdbc:postgresql://host:port/db}).
 *
 * <p>For SQLite the URL names a file and nothing else: the store sets the connection options
 * itself (WAL, {@code synchronous=FULL}, …), so URL options, {@code :memory:} and user or password
 * are refused. For PostgreSQL the user may be empty when the URL carries it. The password is never
 * printed, neither from {@link #password()} nor from a {@code password=} parameter of the URL.
 */
public record MetadataConfig(String jdbcUrl, String user, SecretBytes password, int maxPoolSize) {
    public static final int DEFAULT_MAX_POOL_SIZE = 8;
    public static final int MAX_POOL_SIZE = 256;
    private static final Pattern URL_PASSWORD = Pattern.compile("(?i)(password=)[^&;]*");

    public MetadataConfig {
        requireNonNull(jdbcUrl, "jdbcUrl is null");
        requireNonNull(user, "user is null");
        requireNonNull(password, "password is null");
        Dialect dialect = Dialect.of(jdbcUrl);
        if (dialect == Dialect.SQLITE) {
            String file = jdbcUrl.substring(dialect.urlPrefix().length());
            if (file.isEmpty() || file.equals(":memory:") || file.startsWith("file:") || file.contains("?")) {
                throw new IllegalArgumentException("a jdbc:sqlite: URL must name a database file and nothing else, as in "
                        + "jdbc:sqlite:/var/lib/citadel/metadata/citadel.db");
            }
            if (!user.isEmpty() || password.length() > 0) {
                throw new IllegalArgumentException("a metadata user and password apply only to PostgreSQL, not to SQLite");
            }
        } else if (!jdbcUrl.startsWith("jdbc:postgresql://")) {
            throw new IllegalArgumentException("a PostgreSQL URL must name its server, as in jdbc:postgresql://db.example.com:5432/citadel");
        }
        if (maxPoolSize < 1 || maxPoolSize > MAX_POOL_SIZE) {
            throw new IllegalArgumentException("metadata pool size must be between 1 and " + MAX_POOL_SIZE + ", got " + maxPoolSize);
        }
    }

    /** SQLite in {@code <dataDir>/metadata/citadel.db} with {@value #DEFAULT_MAX_POOL_SIZE} connections; no file is touched yet. */
    public static MetadataConfig embedded(Path dataDir) {
        requireNonNull(dataDir, "dataDir is null");
        Path file = dataDir.toAbsolutePath().normalize().resolve("metadata").resolve("citadel.db");
        return new MetadataConfig(Dialect.SQLITE.urlPrefix() + file, "", SecretBytes.copyOf(new byte[0]), DEFAULT_MAX_POOL_SIZE);
    }

    public Dialect dialect() {
        return Dialect.of(jdbcUrl);
    }

    /** The database file of a SQLite store. */
    public Path sqliteFile() {
        if (dialect() != Dialect.SQLITE) {
            throw new IllegalStateException("not a SQLite store");
        }
        return Path.of(jdbcUrl.substring(Dialect.SQLITE.urlPrefix().length()));
    }

    @Override
    public String toString() {
        return "MetadataConfig[jdbcUrl=" + URL_PASSWORD.matcher(jdbcUrl).replaceAll("$1***") + ", user=" + user
                + ", password=" + (password.length() == 0 ? "(none)" : "***") + ", maxPoolSize=" + maxPoolSize + "]";
    }
}
