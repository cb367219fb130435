package dev.citadel.metadata;

import static java.util.Objects.requireNonNull;

import dev.citadel.core.SecretBytes;
import java.nio.file.Path;

/**
 * Where the metadata store lives: an embedded SQLite file or a PostgreSQL server shared by
 * several nodes.
 */
public record MetadataConfig(String jdbcUrl, String user, SecretBytes password, int maxPoolSize) {
    public MetadataConfig {
        requireNonNull(jdbcUrl, "jdbcUrl is null");
        requireNonNull(user, "user is null");
        requireNonNull(password, "password is null");
        Dialect.of(jdbcUrl);
        if (maxPoolSize < 1 || maxPoolSize > 256) {
            throw new IllegalArgumentException("pool size must be between 1 and 256, got " + maxPoolSize);
        }
    }

    /** SQLite in {@code <dataDir>/metadata/citadel.db}. */
    public static MetadataConfig embedded(Path dataDir) {
        Path file = dataDir.toAbsolutePath().resolve("metadata").resolve("citadel.db");
        return new MetadataConfig("jdbc:sqlite:" + file, "", SecretBytes.copyOf(new byte[0]), 8);
    }

    public Dialect dialect() {
        return Dialect.of(jdbcUrl);
    }

    @Override
    public String toString() {
        return "MetadataConfig[jdbcUrl=" + jdbcUrl + ", user=" + user + ", password=" + (password.length() == 0 ? "(none)" : "(set)")
                + ", maxPoolSize=" + maxPoolSize + "]";
    }
}
