package dev.citadel.metadata.logs;

import static dev.citadel.metadata.internal.Sql.execute;
import static java.util.Objects.requireNonNull;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.SqlStatement;

/** Log streams and their sealed chunks of events (V18): job output as the CloudWatch Logs subset reads it. */
public final class LogRepository {
    /** A stream of that name exists in the account, region and group. */
    public static final String STREAM_NAME = "logs_streams_pkey";

    /** Names one stream. */
    public record StreamKey(String accountId, String region, String group, String stream) {
        public StreamKey {
            requireNonNull(accountId, "accountId is null");
            requireNonNull(region, "region is null");
            requireNonNull(group, "group is null");
            requireNonNull(stream, "stream is null");
        }
    }

    /**
     * A stream's state. The event timestamps are absent until its first event.
     *
     * @param storedBytes  what the byte cap counts so far
     * @param truncated    the cap was reached and later events were dropped
     * @param nextSequence the sequence number of the next chunk
     */
    public record Stream(StreamKey key, Instant createdAt, Optional<Instant> firstEventAt, Optional<Instant> lastEventAt,
            Optional<Instant> lastIngestedAt, long storedBytes, boolean truncated, long nextSequence) {
        public Stream {
            requireNonNull(key, "key is null");
            requireNonNull(createdAt, "createdAt is null");
            requireNonNull(firstEventAt, "firstEventAt is null");
            requireNonNull(lastEventAt, "lastEventAt is null");
            requireNonNull(lastIngestedAt, "lastIngestedAt is null");
        }
    }

    /** A chunk without its payload: what a reader needs to decide whether to open it. */
    public record ChunkInfo(long sequence, Instant firstEventAt, Instant lastEventAt, int eventCount, Instant ingestedAt) {
        public ChunkInfo {
            requireNonNull(firstEventAt, "firstEventAt is null");
            requireNonNull(lastEventAt, "lastEventAt is null");
            requireNonNull(ingestedAt, "ingestedAt is null");
            if (eventCount < 1) {
                throw new IllegalArgumentException("a chunk holds at least one event");
            }
        }
    }

    /** A chunk to store: its description and its sealed payload. */
    public record Chunk(ChunkInfo info, byte[] payload) {
        public Chunk {
            requireNonNull(info, "info is null");
            requireNonNull(payload, "payload is null");
        }
    }

    /** A log group as DescribeLogGroups lists it: the creation time of its first stream and the bytes of all. */
    public record Group(String name, Instant createdAt, long storedBytes) {
        public Group {
            requireNonNull(name, "name is null");
            requireNonNull(createdAt, "createdAt is null");
        }
    }

    private final Handle h;

    public LogRepository(Handle handle) {
        this.h = requireNonNull(handle, "handle is null");
    }

    /** Records a new, empty stream; a stream of that name raises DuplicateKeyException ({@link #STREAM_NAME}). */
    public void insertStream(StreamKey key, Instant createdAt) {
        execute(h.createUpdate("INSERT INTO logs_streams (account_id, region, log_group, stream, created_at, first_event_at, last_event_at, "
                        + "last_ingested_at, stored_bytes, truncated, next_sequence) VALUES (:a, :r, :g, :s, :c, NULL, NULL, NULL, 0, 0, 0)")
                .bind("a", key.accountId()).bind("r", key.region()).bind("g", key.group()).bind("s", key.stream())
                .bind("c", createdAt.toEpochMilli()));
    }

    public Optional<Stream> stream(StreamKey key) {
        return bindKey(h.createQuery("SELECT * FROM logs_streams WHERE account_id = :a AND region = :r AND log_group = :g AND stream = :s"), key)
                .map((rs, ctx) -> stream(rs)).findOne();
    }

    /** The streams of a group, by name. */
    public List<Stream> streams(String accountId, String region, String group) {
        return h.createQuery("SELECT * FROM logs_streams WHERE account_id = :a AND region = :r AND log_group = :g ORDER BY stream")
                .bind("a", accountId).bind("r", region).bind("g", group).map((rs, ctx) -> stream(rs)).list();
    }

    /** The account's groups in a region, by name. */
    public List<Group> groups(String accountId, String region) {
        return h.createQuery("SELECT log_group, MIN(created_at) AS created_at, SUM(stored_bytes) AS stored_bytes FROM logs_streams "
                        + "WHERE account_id = :a AND region = :r GROUP BY log_group ORDER BY log_group")
                .bind("a", accountId).bind("r", region)
                .map((rs, ctx) -> new Group(rs.getString("log_group"), Instant.ofEpochMilli(rs.getLong("created_at")), rs.getLong("stored_bytes")))
                .list();
    }

    public boolean groupExists(String accountId, String region, String group) {
        return h.createQuery("SELECT COUNT(*) FROM logs_streams WHERE account_id = :a AND region = :r AND log_group = :g")
                .bind("a", accountId).bind("r", region).bind("g", group).mapTo(Long.class).one() > 0;
    }

    /**
     * Stores chunks of a stream and its new state in one step. The chunks' sequences must be the
     * stream's {@code nextSequence} onwards; {@code updated.nextSequence()} the one after the last.
     */
    public void append(Stream updated, List<Chunk> chunks) {
        StreamKey key = updated.key();
        for (Chunk c : chunks) {
            ChunkInfo i = c.info();
            execute(bindKey(h.createUpdate("INSERT INTO logs_chunks (account_id, region, log_group, stream, sequence, first_event_at, "
                            + "last_event_at, event_count, ingested_at, payload) VALUES (:a, :r, :g, :s, :q, :f, :l, :n, :i, :p)"), key)
                    .bind("q", i.sequence()).bind("f", i.firstEventAt().toEpochMilli()).bind("l", i.lastEventAt().toEpochMilli())
                    .bind("n", i.eventCount()).bind("i", i.ingestedAt().toEpochMilli()).bind("p", c.payload()));
        }
        int n = execute(bindKey(h.createUpdate("UPDATE logs_streams SET first_event_at = :f, last_event_at = :l, last_ingested_at = :i, "
                        + "stored_bytes = :b, truncated = :t, next_sequence = :q "
                        + "WHERE account_id = :a AND region = :r AND log_group = :g AND stream = :s"), key)
                .bind("f", updated.firstEventAt().map(Instant::toEpochMilli).orElse(null))
                .bind("l", updated.lastEventAt().map(Instant::toEpochMilli).orElse(null))
                .bind("i", updated.lastIngestedAt().map(Instant::toEpochMilli).orElse(null))
                .bind("b", updated.storedBytes()).bind("t", updated.truncated() ? 1 : 0).bind("q", updated.nextSequence()));
        if (n != 1) {
            throw new IllegalStateException("no log stream " + key);
        }
    }

    /** The chunks of a stream in sequence order, without payloads. */
    public List<ChunkInfo> chunks(StreamKey key) {
        return bindKey(h.createQuery("SELECT sequence, first_event_at, last_event_at, event_count, ingested_at FROM logs_chunks "
                        + "WHERE account_id = :a AND region = :r AND log_group = :g AND stream = :s ORDER BY sequence"), key)
                .map((rs, ctx) -> new ChunkInfo(rs.getLong("sequence"), Instant.ofEpochMilli(rs.getLong("first_event_at")),
                        Instant.ofEpochMilli(rs.getLong("last_event_at")), rs.getInt("event_count"), Instant.ofEpochMilli(rs.getLong("ingested_at"))))
                .list();
    }

    /** The sealed payload of one chunk. */
    public Optional<byte[]> payload(StreamKey key, long sequence) {
        return bindKey(h.createQuery("SELECT payload FROM logs_chunks WHERE account_id = :a AND region = :r AND log_group = :g AND stream = :s "
                        + "AND sequence = :q"), key).bind("q", sequence).mapTo(byte[].class).findOne();
    }

    private static <S extends SqlStatement<S>> S bindKey(S statement, StreamKey key) {
        return statement.bind("a", key.accountId()).bind("r", key.region()).bind("g", key.group()).bind("s", key.stream());
    }

    private static Stream stream(ResultSet rs) throws SQLException {
        return new Stream(new StreamKey(rs.getString("account_id"), rs.getString("region"), rs.getString("log_group"), rs.getString("stream")),
                Instant.ofEpochMilli(rs.getLong("created_at")), instant(rs, "first_event_at"), instant(rs, "last_event_at"),
                instant(rs, "last_ingested_at"), rs.getLong("stored_bytes"), rs.getLong("truncated") == 1, rs.getLong("next_sequence"));
    }

    private static Optional<Instant> instant(ResultSet rs, String column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(v));
    }
}
