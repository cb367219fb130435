package dev.citadel.metadata;

import static java.util.Objects.requireNonNull;

import java.util.Map;

/**
 * The two SQL dialects the metadata store runs on, detected from the JDBC URL, and the values of
 * the Flyway placeholders that let one set of migration files serve both (see
 * {@code package-info.java}).
 */
public enum Dialect {
    SQLITE("jdbc:sqlite:", Map.of("blob", "BLOB", "int64", "INTEGER", "strict", "STRICT", "binary", "")),
    POSTGRESQL("jdbc:postgresql:", Map.of("blob", "BYTEA", "int64", "BIGINT", "strict", "", "binary", "COLLATE \"C\""));

    private final String urlPrefix;
    private final Map<String, String> placeholders;

    Dialect(String urlPrefix, Map<String, String> placeholders) {
        this.urlPrefix = urlPrefix;
        this.placeholders = placeholders;
    }

    /** The JDBC URL prefix of this dialect, such as {@code jdbc:sqlite:}. */
    public String urlPrefix() {
        return urlPrefix;
    }

    /** Flyway placeholder values for this dialect. */
    public Map<String, String> placeholders() {
        return placeholders;
    }

    public static Dialect of(String jdbcUrl) {
        requireNonNull(jdbcUrl, "jdbcUrl is null");
        for (Dialect d : values()) {
            if (jdbcUrl.startsWith(d.urlPrefix)) {
                return d;
            }
        }
        int schemeEnd = jdbcUrl.indexOf(':', jdbcUrl.indexOf(':') + 1);
        String scheme = schemeEnd < 0 ? jdbcUrl.substring(0, Math.min(jdbcUrl.length(), 16)) : jdbcUrl.substring(0, schemeEnd + 1);
        // only the scheme is echoed: the rest of a URL may carry a password
        throw new IllegalArgumentException("metadata URL must start with jdbc:sqlite: or jdbc:postgresql:, got '" + scheme + "…'");
    }
}
