package dev.citadel.metadata.sagemaker;

import static dev.citadel.metadata.internal.Sql.execute;
import static java.util.Objects.requireNonNull;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/** SageMaker's models, endpoint configurations, endpoints, algorithms, model packages and their groups (V20, V21). */
public final class ResourceRepository {
    /** A resource of that kind and name exists in the account. */
    public static final String RESOURCE_NAME = "sagemaker_entities_pkey";

    public enum Kind { MODEL, ENDPOINT_CONFIG, ENDPOINT, ALGORITHM, MODEL_PACKAGE, MODEL_PACKAGE_GROUP }

    /** @param bodySealed the Create* request (models, configurations) or the endpoint's state, sealed; @param tags a JSON object */
    public record Resource(String accountId, Kind kind, String name, String arn, String status, Optional<String> failureReason,
            byte[] bodySealed, String tags, Instant createdAt, Instant modifiedAt) {
        public Resource {
            requireNonNull(accountId, "accountId is null");
            requireNonNull(kind, "kind is null");
            requireNonNull(name, "name is null");
            requireNonNull(failureReason, "failureReason is null");
        }

        public Resource with(String status, Optional<String> failureReason, byte[] bodySealed, Instant modifiedAt) {
            return new Resource(accountId, kind, name, arn, status, failureReason, bodySealed, tags, createdAt, modifiedAt);
        }
    }

    private final Handle h;

    public ResourceRepository(Handle handle) {
        this.h = requireNonNull(handle, "handle is null");
    }

    /** Adds a resource; a duplicate name raises {@link dev.citadel.metadata.DuplicateKeyException} naming {@link #RESOURCE_NAME}. */
    public void insert(Resource r) {
        execute(h.createUpdate("INSERT INTO sagemaker_entities (account_id, kind, name, arn, status, failure_reason, body_sealed, tags, "
                + "created_at, modified_at) VALUES (:a, :k, :n, :arn, :s, :f, :b, :t, :c, :m)")
                .bind("a", r.accountId()).bind("k", r.kind().name()).bind("n", r.name()).bind("arn", r.arn()).bind("s", r.status())
                .bind("f", r.failureReason().orElse(null)).bind("b", r.bodySealed()).bind("t", r.tags())
                .bind("c", r.createdAt().toEpochMilli()).bind("m", r.modifiedAt().toEpochMilli()));
    }

    /** Writes status, reason, body and time if the status is still {@code expectedStatus}; false when another writer moved it. */
    public boolean update(Resource r, String expectedStatus) {
        return execute(h.createUpdate("UPDATE sagemaker_entities SET status = :s, failure_reason = :f, body_sealed = :b, modified_at = :m "
                + "WHERE account_id = :a AND kind = :k AND name = :n AND status = :expected")
                .bind("a", r.accountId()).bind("k", r.kind().name()).bind("n", r.name()).bind("s", r.status())
                .bind("f", r.failureReason().orElse(null)).bind("b", r.bodySealed()).bind("m", r.modifiedAt().toEpochMilli())
                .bind("expected", expectedStatus)) == 1;
    }

    public Optional<Resource> resource(String accountId, Kind kind, String name) {
        return h.createQuery("SELECT * FROM sagemaker_entities WHERE account_id = :a AND kind = :k AND name = :n")
                .bind("a", accountId).bind("k", kind.name()).bind("n", name).map((rs, ctx) -> resource(rs)).findOne();
    }

    /** An account's resources of one kind, oldest first. */
    public List<Resource> resources(String accountId, Kind kind) {
        return h.createQuery("SELECT * FROM sagemaker_entities WHERE account_id = :a AND kind = :k ORDER BY created_at, name")
                .bind("a", accountId).bind("k", kind.name()).map((rs, ctx) -> resource(rs)).list();
    }

    /** Every account's resources of one kind (the endpoint manager's view at start). */
    public List<Resource> all(Kind kind) {
        return h.createQuery("SELECT * FROM sagemaker_entities WHERE kind = :k ORDER BY created_at, account_id, name")
                .bind("k", kind.name()).map((rs, ctx) -> resource(rs)).list();
    }

    /** Every account's resources of one kind in one of two statuses (the index on kind and status serves it). */
    public List<Resource> inStatus(Kind kind, String status, String otherStatus) {
        return h.createQuery("SELECT * FROM sagemaker_entities WHERE kind = :k AND status IN (:s, :t) ORDER BY created_at, account_id, name")
                .bind("k", kind.name()).bind("s", status).bind("t", otherStatus).map((rs, ctx) -> resource(rs)).list();
    }

    public boolean delete(String accountId, Kind kind, String name) {
        return execute(h.createUpdate("DELETE FROM sagemaker_entities WHERE account_id = :a AND kind = :k AND name = :n")
                .bind("a", accountId).bind("k", kind.name()).bind("n", name)) == 1;
    }

    private static Resource resource(ResultSet rs) throws SQLException {
        return new Resource(rs.getString("account_id"), Kind.valueOf(rs.getString("kind")), rs.getString("name"), rs.getString("arn"),
                rs.getString("status"), Optional.ofNullable(rs.getString("failure_reason")), rs.getBytes("body_sealed"), rs.getString("tags"),
                Instant.ofEpochMilli(rs.getLong("created_at")), Instant.ofEpochMilli(rs.getLong("modified_at")));
    }
}
