package dev.citadel.metadata.cloudtrail;

import static dev.citadel.metadata.internal.Sql.execute;
import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/** The event history behind LookupEvents: indexed management events and how far the index has read the audit log. */
public final class EventIndexRepository {
    /**
     * @param resources the resources as lines of "type name", each line ended by a newline and the
     *                  whole starting with one (so that a type or a name matches whole)
     * @param record    the CloudTrail record as JSON
     */
    public record IndexedEvent(String eventId, String accountId, Instant eventTime, String eventName, String eventSource, String username,
            String accessKeyId, boolean readOnly, String resources, String record) {
    }

    /** A lookup: one optional attribute (column and value), a time range, after a (time, id) cursor, newest first. */
    public record Query(String accountId, Optional<String> column, String value, Instant start, Instant end, Optional<Instant> beforeTime,
            String beforeId, int limit) {
    }

    /** The lookup attributes: columns, and resource_type / resource_name, which match a whole part of a resources line. */
    private static final List<String> COLUMNS = List.of("event_id", "event_name", "event_source", "username", "access_key_id", "read_only",
            "resource_type", "resource_name");

    private final Handle h;

    public EventIndexRepository(Handle handle) {
        this.h = requireNonNull(handle, "handle is null");
    }

    public long offset() {
        return h.createQuery("SELECT log_offset FROM audit_index_state WHERE id = 1").mapTo(Long.class).findOne().orElse(0L);
    }

    public void setOffset(long offset) {
        if (execute(h.createUpdate("UPDATE audit_index_state SET log_offset = :o WHERE id = 1").bind("o", offset)) == 0) {
            execute(h.createUpdate("INSERT INTO audit_index_state (id, log_offset) VALUES (1, :o)").bind("o", offset));
        }
    }

    /** Adds an event unless its id is already indexed (a re-read after a crash). */
    public void add(IndexedEvent e) {
        boolean known = h.createQuery("SELECT COUNT(*) FROM audit_events WHERE event_id = :id").bind("id", e.eventId()).mapTo(Integer.class).one() > 0;
        if (known) {
            return;
        }
        execute(h.createUpdate("INSERT INTO audit_events (event_id, account_id, event_time, event_name, event_source, username, access_key_id, "
                        + "read_only, resources, record) VALUES (:id, :account, :time, :name, :source, :user, :key, :ro, :resources, :record)")
                .bind("id", e.eventId()).bind("account", e.accountId()).bind("time", e.eventTime().toEpochMilli()).bind("name", e.eventName())
                .bind("source", e.eventSource()).bind("user", e.username()).bind("key", e.accessKeyId()).bind("ro", e.readOnly() ? 1 : 0)
                .bind("resources", e.resources()).bind("record", e.record()));
    }

    /** Events of the query, newest first. The column, if any, must be one of the indexed attributes. */
    public List<IndexedEvent> lookup(Query q) {
        StringBuilder sql = new StringBuilder("SELECT * FROM audit_events WHERE account_id = :account AND event_time >= :start AND event_time <= :end");
        if (q.column().isPresent()) {
            String column = q.column().get();
            if (!COLUMNS.contains(column)) {
                throw new IllegalArgumentException("not an indexed attribute: " + column);
            }
            if (column.startsWith("resource_")) {
                sql.append(" AND resources LIKE :like ESCAPE '!'");
            } else {
                sql.append(" AND ").append(column).append(" = :value");
            }
        }
        if (q.beforeTime().isPresent()) {
            sql.append(" AND (event_time < :bt OR (event_time = :bt AND event_id < :bid))");
        }
        sql.append(" ORDER BY event_time DESC, event_id DESC LIMIT :limit");
        var query = h.createQuery(sql.toString()).bind("account", q.accountId()).bind("start", q.start().toEpochMilli())
                .bind("end", q.end().toEpochMilli()).bind("limit", q.limit());
        if (q.column().isPresent()) {
            String escaped = q.value().replace("!", "!!").replace("%", "!%").replace("_", "!_");
            if (q.column().get().equals("resource_type")) {
                query.bind("like", "%\n" + escaped + " %");
            } else if (q.column().get().equals("resource_name")) {
                query.bind("like", "% " + escaped + "\n%");
            } else if (q.column().get().equals("read_only")) {
                query.bind("value", Boolean.parseBoolean(q.value()) ? 1 : 0);
            } else {
                query.bind("value", q.value());
            }
        }
        q.beforeTime().ifPresent(t -> query.bind("bt", t.toEpochMilli()).bind("bid", q.beforeId()));
        return query.map((rs, ctx) -> new IndexedEvent(rs.getString("event_id"), rs.getString("account_id"),
                Instant.ofEpochMilli(rs.getLong("event_time")), rs.getString("event_name"), rs.getString("event_source"), rs.getString("username"),
                rs.getString("access_key_id"), rs.getInt("read_only") == 1, rs.getString("resources"), rs.getString("record"))).list();
    }
}
