package dev.citadel.metadata.cloudtrail;

import static dev.citadel.metadata.internal.Sql.execute;
import static java.util.Objects.requireNonNull;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/** What CloudTrail delivery has done for each trail: its audit-log offset, its log files awaiting a digest, its digest chains. */
public final class DeliveryRepository {
    /**
     * @param logOffset       how far into the audit log the trail's events have been delivered
     * @param latestError     the error of the latest delivery attempt ("" when it succeeded)
     * @param latestDigestError the error of the latest digest delivery ("" when it succeeded)
     */
    public record State(String trailArn, long logOffset, Optional<Instant> latestDelivery, Optional<Instant> latestAttempt, String latestError,
            Optional<Instant> latestDigest, String latestDigestError) {
        public State {
            requireNonNull(trailArn, "trailArn is null");
            requireNonNull(latestError, "latestError is null");
            requireNonNull(latestDigestError, "latestDigestError is null");
        }

        public static State fresh(String trailArn) {
            return new State(trailArn, 0, Optional.empty(), Optional.empty(), "", Optional.empty(), "");
        }
    }

    /** A delivered log file: where it is, the SHA-256 (hex) of its uncompressed content, and its events' time span. */
    public record LogFile(String trailArn, String region, String bucket, String key, String hash, Instant oldestEvent, Instant newestEvent,
            Instant deliveredAt) {
    }

    /** The last digest of a trail in a source region: the next digest names it and its signature. */
    public record ChainHead(String trailArn, String region, String bucket, String key, Instant endTime, String hash, String signature) {
    }

    private final Handle h;

    public DeliveryRepository(Handle handle) {
        this.h = requireNonNull(handle, "handle is null");
    }

    public Optional<State> state(String trailArn) {
        return h.createQuery("SELECT * FROM cloudtrail_delivery WHERE trail_arn = :t").bind("t", trailArn).map((rs, ctx) -> state(rs)).findOne();
    }

    public void save(State s) {
        execute(h.createUpdate("DELETE FROM cloudtrail_delivery WHERE trail_arn = :t").bind("t", s.trailArn()));
        execute(h.createUpdate("INSERT INTO cloudtrail_delivery (trail_arn, log_offset, latest_delivery, latest_attempt, latest_error, "
                        + "latest_digest, latest_digest_error) VALUES (:t, :o, :d, :a, :e, :g, :ge)")
                .bind("t", s.trailArn()).bind("o", s.logOffset()).bind("d", millis(s.latestDelivery())).bind("a", millis(s.latestAttempt()))
                .bind("e", s.latestError()).bind("g", millis(s.latestDigest())).bind("ge", s.latestDigestError()));
    }

    public void addLogFile(LogFile f) {
        execute(h.createUpdate("INSERT INTO cloudtrail_log_files (trail_arn, region, bucket, object_key, hash, oldest_event, newest_event, "
                        + "delivered_at) VALUES (:t, :r, :b, :k, :h, :o, :n, :d)")
                .bind("t", f.trailArn()).bind("r", f.region()).bind("b", f.bucket()).bind("k", f.key()).bind("h", f.hash())
                .bind("o", f.oldestEvent().toEpochMilli()).bind("n", f.newestEvent().toEpochMilli()).bind("d", f.deliveredAt().toEpochMilli()));
    }

    /** The trail's log files in the region delivered before {@code before}, not yet in a digest, oldest delivery first. */
    public List<LogFile> pendingLogFiles(String trailArn, String region, Instant before) {
        return h.createQuery("SELECT * FROM cloudtrail_log_files WHERE trail_arn = :t AND region = :r AND delivered_at < :before "
                        + "ORDER BY delivered_at, object_key")
                .bind("t", trailArn).bind("r", region).bind("before", before.toEpochMilli())
                .map((rs, ctx) -> new LogFile(rs.getString("trail_arn"), rs.getString("region"), rs.getString("bucket"), rs.getString("object_key"),
                        rs.getString("hash"), Instant.ofEpochMilli(rs.getLong("oldest_event")), Instant.ofEpochMilli(rs.getLong("newest_event")),
                        Instant.ofEpochMilli(rs.getLong("delivered_at"))))
                .list();
    }

    /** The source regions in which the trail has log files awaiting a digest. */
    public List<String> pendingRegions(String trailArn) {
        return h.createQuery("SELECT DISTINCT region FROM cloudtrail_log_files WHERE trail_arn = :t ORDER BY region").bind("t", trailArn)
                .mapTo(String.class).list();
    }

    public void removeLogFiles(List<LogFile> files) {
        for (LogFile f : files) {
            execute(h.createUpdate("DELETE FROM cloudtrail_log_files WHERE trail_arn = :t AND bucket = :b AND object_key = :k")
                    .bind("t", f.trailArn()).bind("b", f.bucket()).bind("k", f.key()));
        }
    }

    public Optional<ChainHead> chainHead(String trailArn, String region) {
        return h.createQuery("SELECT * FROM cloudtrail_digest_chain WHERE trail_arn = :t AND region = :r").bind("t", trailArn).bind("r", region)
                .map((rs, ctx) -> new ChainHead(rs.getString("trail_arn"), rs.getString("region"), rs.getString("bucket"), rs.getString("object_key"),
                        Instant.ofEpochMilli(rs.getLong("end_time")), rs.getString("hash"), rs.getString("signature")))
                .findOne();
    }

    public List<String> chainRegions(String trailArn) {
        return h.createQuery("SELECT region FROM cloudtrail_digest_chain WHERE trail_arn = :t ORDER BY region").bind("t", trailArn)
                .mapTo(String.class).list();
    }

    public void setChainHead(ChainHead c) {
        execute(h.createUpdate("DELETE FROM cloudtrail_digest_chain WHERE trail_arn = :t AND region = :r").bind("t", c.trailArn())
                .bind("r", c.region()));
        execute(h.createUpdate("INSERT INTO cloudtrail_digest_chain (trail_arn, region, bucket, object_key, end_time, hash, signature) "
                        + "VALUES (:t, :r, :b, :k, :e, :h, :s)")
                .bind("t", c.trailArn()).bind("r", c.region()).bind("b", c.bucket()).bind("k", c.key()).bind("e", c.endTime().toEpochMilli())
                .bind("h", c.hash()).bind("s", c.signature()));
    }

    /** Breaks the trail's digest chains: the next digest in each region is a starting digest. */
    public void breakChains(String trailArn) {
        execute(h.createUpdate("DELETE FROM cloudtrail_digest_chain WHERE trail_arn = :t").bind("t", trailArn));
    }

    /** Forgets everything about a trail (it was deleted). */
    public void forget(String trailArn) {
        breakChains(trailArn);
        execute(h.createUpdate("DELETE FROM cloudtrail_log_files WHERE trail_arn = :t").bind("t", trailArn));
        execute(h.createUpdate("DELETE FROM cloudtrail_delivery WHERE trail_arn = :t").bind("t", trailArn));
    }

    private static State state(ResultSet rs) throws SQLException {
        return new State(rs.getString("trail_arn"), rs.getLong("log_offset"), instant(rs, "latest_delivery"), instant(rs, "latest_attempt"),
                rs.getString("latest_error"), instant(rs, "latest_digest"), rs.getString("latest_digest_error"));
    }

    private static Optional<Instant> instant(ResultSet rs, String column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(v));
    }

    private static Long millis(Optional<Instant> t) {
        return t.map(Instant::toEpochMilli).orElse(null);
    }
}
