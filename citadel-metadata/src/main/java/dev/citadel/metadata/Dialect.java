package dev.citadel.metadata;

import java.util.Map;

/**
 * The two SQL dialects the metadata store runs on. The migrations are one set of files for both;
 * the few type differences are Flyway placeholders: {@code ${blob}}, {@code ${int64}} and
 * {@code ${strict}} (every SQLite table is {@code STRICT}, so a value of the wrong type is an
 * error rather than silently stored).
 */
public enum Dialect {
    SQLITE(Map.of("blob", "BLOB", "int64", "INTEGER", "strict", "STRICT")),
    POSTGRESQL(Map.of("blob", "BYTEA", "int64", "BIGINT", "strict", ""));

    private final Map<String, String> placeholders;

    Dialect(Map<String, String> placeholders) {
        this.placeholders = placeholders;
    }

    public Map<String, String> placeholders() {
        return placeholders;
    }

    public static Dialect of(String jdbcUrl) {
        if (jdbcUrl.startsWith("jdbc:sqlite:")) {
            return SQLITE;
        }
        if (jdbcUrl.startsWith("jdbc:postgresql:")) {
            return POSTGRESQL;
        }
        throw new IllegalArgumentException("metadata URL must start with jdbc:sqlite: or jdbc:postgresql:");
    }
}
