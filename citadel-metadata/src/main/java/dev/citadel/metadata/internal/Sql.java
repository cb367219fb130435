package dev.citadel.metadata.internal;

import dev.citadel.metadata.DuplicateKeyException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Arrays;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.jdbi.v3.core.statement.Update;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

/**
 * What the repositories share: writes whose uniqueness violations become
 * {@link DuplicateKeyException}, and timestamps as epoch milliseconds.
 *
 * <p>Constraint names are PostgreSQL's own naming convention, declared explicitly in the
 * migrations: {@code <table>_pkey} for a primary key and {@code <table>_<col>[_<col>…]_key} for a
 * unique constraint. PostgreSQL reports that name; SQLite reports the table and columns
 * ({@code UNIQUE constraint failed: accounts.email}) and whether it was the primary key, from which
 * the same name is derived. So one name identifies the rule on both dialects.
 */
public final class Sql {
    private static final String UNIQUE_VIOLATION = "23505";
    private static final Pattern SQLITE_UNIQUE = Pattern.compile("UNIQUE constraint failed: ([\\w.]+(?:, [\\w.]+)*)");

    private Sql() {
    }

    /** Executes a write, turning a uniqueness violation into {@link DuplicateKeyException}. */
    public static int execute(Update update) {
        try {
            return update.execute();
        } catch (RuntimeException e) {
            throw translate(e);
        }
    }

    /** {@code e} itself, or a {@link DuplicateKeyException} if a uniqueness violation caused it. */
    public static RuntimeException translate(RuntimeException e) {
        if (e instanceof DuplicateKeyException) {
            return e;
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            Optional<String> constraint = switch (t) {
                case PSQLException pg -> postgresConstraint(pg);
                case SQLiteException sqlite -> sqliteConstraint(sqlite);
                default -> Optional.empty();
            };
            if (constraint.isPresent()) {
                return new DuplicateKeyException(constraint.get(), e);
            }
        }
        return e;
    }

    private static Optional<String> postgresConstraint(PSQLException e) {
        if (!UNIQUE_VIOLATION.equals(e.getSQLState())) {
            return Optional.empty();
        }
        ServerErrorMessage detail = e.getServerErrorMessage();
        String name = detail == null ? null : detail.getConstraint();
        return Optional.of(name == null ? "unknown" : name);
    }

    private static Optional<String> sqliteConstraint(SQLiteException e) {
        SQLiteErrorCode code = e.getResultCode();
        boolean primaryKey = code == SQLiteErrorCode.SQLITE_CONSTRAINT_PRIMARYKEY;
        if (!primaryKey && code != SQLiteErrorCode.SQLITE_CONSTRAINT_UNIQUE) {
            return Optional.empty();
        }
        Matcher m = SQLITE_UNIQUE.matcher(String.valueOf(e.getMessage()));
        if (!m.find()) {
            return Optional.of("unknown");
        }
        String[] columns = m.group(1).split(", ");
        String table = columns[0].substring(0, columns[0].indexOf('.'));
        if (primaryKey) {
            return Optional.of(table + "_pkey");
        }
        return Optional.of(table + "_" + Arrays.stream(columns).map(c -> c.substring(c.indexOf('.') + 1))
                .collect(Collectors.joining("_")) + "_key");
    }

    public static long millis(Instant instant) {
        return instant.toEpochMilli();
    }

    public static Long millis(Optional<Instant> instant) {
        return instant.map(Instant::toEpochMilli).orElse(null);
    }

    public static Instant instant(ResultSet rs, String column) throws SQLException {
        return Instant.ofEpochMilli(rs.getLong(column));
    }

    public static Optional<Instant> optionalInstant(ResultSet rs, String column) throws SQLException {
        long value = rs.getLong(column);
        return rs.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(value));
    }
}
