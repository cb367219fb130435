package dev.citadel.metadata.cloudtrail;

import static dev.citadel.metadata.internal.Sql.execute;
import static dev.citadel.metadata.internal.Sql.instant;
import static java.util.Objects.requireNonNull;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/** CloudTrail trails of an account. */
public final class TrailRepository {
    /** A trail of that name exists in the account: CloudTrail's {@code TrailAlreadyExistsException}. */
    public static final String TRAIL_NAME = "cloudtrail_trails_pkey";

    /**
     * @param eventSelectors the trail's event selectors as JSON
     * @param startedAt      when logging last started, if it ever did
     * @param stoppedAt      when logging last stopped, if it ever did
     */
    public record Trail(String accountId, String name, String arn, String homeRegion, String s3Bucket, String s3KeyPrefix,
            boolean includeGlobalEvents, boolean multiRegion, boolean logFileValidation, String kmsKeyId, String eventSelectors,
            boolean logging, Optional<Instant> startedAt, Optional<Instant> stoppedAt, Instant createdAt) {
        public Trail {
            requireNonNull(accountId, "accountId is null");
            requireNonNull(name, "name is null");
            requireNonNull(startedAt, "startedAt is null");
            requireNonNull(stoppedAt, "stoppedAt is null");
        }
    }

    private final Handle h;

    public TrailRepository(Handle handle) {
        this.h = requireNonNull(handle, "handle is null");
    }

    public void insert(Trail t) {
        execute(bind(h.createUpdate("INSERT INTO cloudtrail_trails (account_id, name, arn, home_region, s3_bucket, s3_key_prefix, "
                + "include_global_events, multi_region, log_file_validation, kms_key_id, event_selectors, logging, start_logging_time, "
                + "stop_logging_time, created_at) VALUES (:account, :name, :arn, :region, :bucket, :prefix, :global, :multi, :validation, "
                + ":kms, :selectors, :logging, :started, :stopped, :created)"), t));
    }

    /** Replaces every mutable field of an existing trail; returns whether it exists. */
    public boolean update(Trail t) {
        return execute(bind(h.createUpdate("UPDATE cloudtrail_trails SET arn = :arn, home_region = :region, s3_bucket = :bucket, "
                + "s3_key_prefix = :prefix, include_global_events = :global, multi_region = :multi, log_file_validation = :validation, "
                + "kms_key_id = :kms, event_selectors = :selectors, logging = :logging, start_logging_time = :started, "
                + "stop_logging_time = :stopped, created_at = :created WHERE account_id = :account AND name = :name"), t)) == 1;
    }

    private static org.jdbi.v3.core.statement.Update bind(org.jdbi.v3.core.statement.Update u, Trail t) {
        return u.bind("account", t.accountId()).bind("name", t.name()).bind("arn", t.arn()).bind("region", t.homeRegion())
                .bind("bucket", t.s3Bucket()).bind("prefix", t.s3KeyPrefix()).bind("global", t.includeGlobalEvents() ? 1 : 0)
                .bind("multi", t.multiRegion() ? 1 : 0).bind("validation", t.logFileValidation() ? 1 : 0).bind("kms", t.kmsKeyId())
                .bind("selectors", t.eventSelectors()).bind("logging", t.logging() ? 1 : 0)
                .bind("started", t.startedAt().map(Instant::toEpochMilli).orElse(null))
                .bind("stopped", t.stoppedAt().map(Instant::toEpochMilli).orElse(null)).bind("created", t.createdAt().toEpochMilli());
    }

    public Optional<Trail> trail(String accountId, String name) {
        return h.createQuery("SELECT * FROM cloudtrail_trails WHERE account_id = :a AND name = :n").bind("a", accountId).bind("n", name)
                .map((rs, ctx) -> trail(rs)).findOne();
    }

    public List<Trail> trails(String accountId) {
        return h.createQuery("SELECT * FROM cloudtrail_trails WHERE account_id = :a ORDER BY name").bind("a", accountId)
                .map((rs, ctx) -> trail(rs)).list();
    }

    /** Every trail of every account (what delivery walks). */
    public List<Trail> all() {
        return h.createQuery("SELECT * FROM cloudtrail_trails ORDER BY account_id, name").map((rs, ctx) -> trail(rs)).list();
    }

    public boolean delete(String accountId, String name) {
        return execute(h.createUpdate("DELETE FROM cloudtrail_trails WHERE account_id = :a AND name = :n").bind("a", accountId).bind("n", name)) == 1;
    }

    private static Trail trail(ResultSet rs) throws SQLException {
        long started = rs.getLong("start_logging_time");
        boolean hasStarted = !rs.wasNull();
        long stopped = rs.getLong("stop_logging_time");
        boolean hasStopped = !rs.wasNull();
        return new Trail(rs.getString("account_id"), rs.getString("name"), rs.getString("arn"), rs.getString("home_region"),
                rs.getString("s3_bucket"), rs.getString("s3_key_prefix"), rs.getInt("include_global_events") == 1, rs.getInt("multi_region") == 1,
                rs.getInt("log_file_validation") == 1, rs.getString("kms_key_id"), rs.getString("event_selectors"), rs.getInt("logging") == 1,
                hasStarted ? Optional.of(Instant.ofEpochMilli(started)) : Optional.empty(),
                hasStopped ? Optional.of(Instant.ofEpochMilli(stopped)) : Optional.empty(), instant(rs, "created_at"));
    }
}
