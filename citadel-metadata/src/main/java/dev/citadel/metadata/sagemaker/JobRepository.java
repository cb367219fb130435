package dev.citadel.metadata.sagemaker;

import static dev.citadel.metadata.internal.Sql.execute;
import static java.util.Objects.requireNonNull;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/** SageMaker's training and processing jobs (V19). */
public final class JobRepository {
    /** A job of that kind and name exists in the account. */
    public static final String JOB_NAME = "sagemaker_jobs_pkey";

    public enum Kind { TRAINING, PROCESSING, TRANSFORM }

    /**
     * One job.
     *
     * @param requestSealed the Create* request as sent, sealed under the secrets key
     * @param transitions   SecondaryStatusTransitions, a JSON array
     * @param outputs       what was delivered, a JSON object
     * @param tags          the job's tags, a JSON object
     * @param runId         the sandbox run while one exists
     */
    public record Job(String accountId, Kind kind, String name, String arn, String status, String secondaryStatus,
            Optional<String> failureReason, byte[] requestSealed, String imageDigest, String roleArn, Instant createdAt,
            Optional<Instant> startedAt, Optional<Instant> endedAt, Instant modifiedAt, String transitions, String outputs, String tags,
            Optional<Instant> stopRequestedAt, Optional<String> runId) {
        public Job {
            requireNonNull(accountId, "accountId is null");
            requireNonNull(kind, "kind is null");
            requireNonNull(name, "name is null");
            requireNonNull(failureReason, "failureReason is null");
            requireNonNull(startedAt, "startedAt is null");
            requireNonNull(endedAt, "endedAt is null");
            requireNonNull(stopRequestedAt, "stopRequestedAt is null");
            requireNonNull(runId, "runId is null");
        }

        public boolean ended() {
            return status.equals("Completed") || status.equals("Failed") || status.equals("Stopped");
        }
    }

    private final Handle h;

    public JobRepository(Handle handle) {
        this.h = requireNonNull(handle, "handle is null");
    }

    /** Adds a job; a duplicate name raises {@link dev.citadel.metadata.DuplicateKeyException} naming {@link #JOB_NAME}. */
    public void insert(Job j) {
        execute(h.createUpdate("INSERT INTO sagemaker_jobs (account_id, kind, name, arn, status, secondary_status, failure_reason, request_sealed, "
                + "image_digest, role_arn, created_at, started_at, ended_at, modified_at, transitions, outputs, tags, stop_requested_at, run_id) "
                + "VALUES (:a, :k, :n, :arn, :s, :ss, :f, :r, :d, :role, :c, :st, :e, :m, :t, :o, :tags, :stop, :run)")
                .bind("a", j.accountId()).bind("k", j.kind().name()).bind("n", j.name()).bind("arn", j.arn())
                .bind("s", j.status()).bind("ss", j.secondaryStatus()).bind("f", j.failureReason().orElse(null))
                .bind("r", j.requestSealed()).bind("d", j.imageDigest()).bind("role", j.roleArn())
                .bind("c", j.createdAt().toEpochMilli()).bind("st", j.startedAt().map(Instant::toEpochMilli).orElse(null))
                .bind("e", j.endedAt().map(Instant::toEpochMilli).orElse(null)).bind("m", j.modifiedAt().toEpochMilli())
                .bind("t", j.transitions()).bind("o", j.outputs()).bind("tags", j.tags())
                .bind("stop", j.stopRequestedAt().map(Instant::toEpochMilli).orElse(null)).bind("run", j.runId().orElse(null)));
    }

    /**
     * Writes a job's changing state (status, reasons, times, transitions, outputs, stop request,
     * run) if its status is still {@code expectedStatus}; false when another writer got there first.
     */
    public boolean update(Job j, String expectedStatus) {
        return execute(h.createUpdate("UPDATE sagemaker_jobs SET status = :s, secondary_status = :ss, failure_reason = :f, started_at = :st, "
                + "ended_at = :e, modified_at = :m, transitions = :t, outputs = :o, stop_requested_at = :stop, run_id = :run "
                + "WHERE account_id = :a AND kind = :k AND name = :n AND status = :expected")
                .bind("a", j.accountId()).bind("k", j.kind().name()).bind("n", j.name())
                .bind("s", j.status()).bind("ss", j.secondaryStatus()).bind("f", j.failureReason().orElse(null))
                .bind("st", j.startedAt().map(Instant::toEpochMilli).orElse(null))
                .bind("e", j.endedAt().map(Instant::toEpochMilli).orElse(null)).bind("m", j.modifiedAt().toEpochMilli())
                .bind("t", j.transitions()).bind("o", j.outputs())
                .bind("stop", j.stopRequestedAt().map(Instant::toEpochMilli).orElse(null)).bind("run", j.runId().orElse(null))
                .bind("expected", expectedStatus)) == 1;
    }

    public Optional<Job> job(String accountId, Kind kind, String name) {
        return h.createQuery("SELECT * FROM sagemaker_jobs WHERE account_id = :a AND kind = :k AND name = :n")
                .bind("a", accountId).bind("k", kind.name()).bind("n", name).map((rs, ctx) -> job(rs)).findOne();
    }

    /** An account's jobs of one kind, oldest first. */
    public List<Job> jobs(String accountId, Kind kind) {
        return h.createQuery("SELECT * FROM sagemaker_jobs WHERE account_id = :a AND kind = :k ORDER BY created_at, name")
                .bind("a", accountId).bind("k", kind.name()).map((rs, ctx) -> job(rs)).list();
    }

    /** Every job not yet ended (InProgress or Stopping), of every account, oldest first: the scheduler's view. */
    public List<Job> active() {
        return h.createQuery("SELECT * FROM sagemaker_jobs WHERE status IN ('InProgress', 'Stopping') ORDER BY created_at, account_id, name")
                .map((rs, ctx) -> job(rs)).list();
    }

    private static Job job(ResultSet rs) throws SQLException {
        return new Job(rs.getString("account_id"), Kind.valueOf(rs.getString("kind")), rs.getString("name"), rs.getString("arn"),
                rs.getString("status"), rs.getString("secondary_status"), Optional.ofNullable(rs.getString("failure_reason")),
                rs.getBytes("request_sealed"), rs.getString("image_digest"), rs.getString("role_arn"),
                Instant.ofEpochMilli(rs.getLong("created_at")), instant(rs, "started_at"), instant(rs, "ended_at"),
                Instant.ofEpochMilli(rs.getLong("modified_at")), rs.getString("transitions"), rs.getString("outputs"), rs.getString("tags"),
                instant(rs, "stop_requested_at"), Optional.ofNullable(rs.getString("run_id")));
    }

    private static Optional<Instant> instant(ResultSet rs, String column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(v));
    }
}
