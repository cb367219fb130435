package dev.citadel.metadata.iam;

import static dev.citadel.metadata.internal.Sql.execute;
import static dev.citadel.metadata.internal.Sql.instant;
import static java.util.Objects.requireNonNull;

import dev.citadel.metadata.Page;
import dev.citadel.metadata.internal.Pages;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/**
 * Customer managed policies and their versions. Works on the caller's {@link Handle}. The rules
 * that count (five versions per policy) and the checks before a delete are the caller's, in one
 * transaction with {@link #lock}.
 */
public final class ManagedPolicyRepository {
    /** A policy of that name (in any case) exists in the account. */
    public static final String POLICY_NAME = "iam_policies_pkey";

    /** A customer managed policy; {@code attachments} is counted when it is read. */
    public record ManagedPolicy(String accountId, String policyName, String policyId, String path, String arn, String description,
            String defaultVersion, long nextVersion, Instant createdAt, Instant updatedAt, int attachments) {
        public ManagedPolicy {
            requireNonNull(accountId, "accountId is null");
            requireNonNull(policyName, "policyName is null");
            requireNonNull(policyId, "policyId is null");
            requireNonNull(path, "path is null");
            requireNonNull(arn, "arn is null");
            requireNonNull(description, "description is null");
            requireNonNull(defaultVersion, "defaultVersion is null");
            requireNonNull(createdAt, "createdAt is null");
            requireNonNull(updatedAt, "updatedAt is null");
        }
    }

    public record Version(String policyArn, String versionId, String document, Instant createdAt) {
    }

    private static final String SELECT = "SELECT p.*, (SELECT COUNT(*) FROM iam_attached_policies a WHERE a.account_id = p.account_id "
            + "AND a.policy_arn = p.arn) AS attachments FROM iam_policies p ";

    private final Handle h;

    public ManagedPolicyRepository(Handle handle) {
        this.h = requireNonNull(handle, "handle is null");
    }

    /** Inserts a policy and its first version, v1, as the default. */
    public void insert(ManagedPolicy p, String document) {
        execute(h.createUpdate("INSERT INTO iam_policies (account_id, name_key, policy_name, policy_id, path, arn, description, "
                        + "default_version, next_version, created_at, updated_at) VALUES (:accountId, :nameKey, :name, :id, :path, :arn, "
                        + ":description, 'v1', 2, :at, :at)")
                .bind("accountId", p.accountId())
                .bind("nameKey", IamNames.key(p.policyName()))
                .bind("name", p.policyName())
                .bind("id", p.policyId())
                .bind("path", p.path())
                .bind("arn", p.arn())
                .bind("description", p.description())
                .bind("at", p.createdAt().toEpochMilli()));
        insertVersion(p.arn(), "v1", document, p.createdAt());
    }

    /** The policy with this ARN, in this account. */
    public Optional<ManagedPolicy> byArn(String accountId, String arn) {
        return h.createQuery(SELECT + "WHERE p.account_id = :accountId AND p.arn = :arn")
                .bind("accountId", accountId)
                .bind("arn", arn)
                .map((rs, ctx) -> policy(rs))
                .findOne();
    }

    /** Locks the policy's row until the transaction ends (a no-op on SQLite, whose writers are serial). */
    public boolean lock(String arn) {
        return execute(h.createUpdate("UPDATE iam_policies SET next_version = next_version WHERE arn = :arn").bind("arn", arn)) == 1;
    }

    /** Policies of the account whose path starts with the prefix, in name order; {@code onlyAttached} keeps those in use. */
    public Page<ManagedPolicy> list(String accountId, String pathPrefix, boolean onlyAttached, Optional<String> token, int maxItems) {
        String after = Pages.after("iam-policies", token, maxItems);
        List<ManagedPolicy> rows = h.createQuery("SELECT * FROM (" + SELECT + "WHERE p.account_id = :accountId AND p.name_key > :after) q "
                        + "WHERE substr(q.path, 1, :prefixLength) = :prefix" + (onlyAttached ? " AND q.attachments > 0" : "")
                        + " ORDER BY q.name_key LIMIT :limit")
                .bind("accountId", accountId)
                .bind("after", after)
                .bind("prefix", pathPrefix)
                .bind("prefixLength", pathPrefix.length())
                .bind("limit", maxItems + 1)
                .map((rs, ctx) -> policy(rs))
                .list();
        return Pages.of("iam-policies", rows, maxItems, p -> IamNames.key(p.policyName()));
    }

    public void insertVersion(String arn, String versionId, String document, Instant at) {
        execute(h.createUpdate("INSERT INTO iam_policy_versions (policy_arn, version_id, document, created_at) "
                        + "VALUES (:arn, :version, :document, :at)")
                .bind("arn", arn)
                .bind("version", versionId)
                .bind("document", document)
                .bind("at", at.toEpochMilli()));
    }

    /** Adds a version numbered from the policy's counter; returns its id. */
    public String addVersion(String arn, String document, Instant at, boolean setAsDefault) {
        long next = h.createQuery("SELECT next_version FROM iam_policies WHERE arn = :arn").bind("arn", arn).mapTo(Long.class).one();
        String versionId = "v" + next;
        insertVersion(arn, versionId, document, at);
        execute(h.createUpdate("UPDATE iam_policies SET next_version = :next, updated_at = :at"
                        + (setAsDefault ? ", default_version = :version" : "") + " WHERE arn = :arn")
                .bind("next", next + 1)
                .bind("at", at.toEpochMilli())
                .bind("version", versionId)
                .bind("arn", arn));
        return versionId;
    }

    public List<Version> versions(String arn) {
        return h.createQuery("SELECT * FROM iam_policy_versions WHERE policy_arn = :arn ORDER BY created_at DESC, version_id DESC")
                .bind("arn", arn)
                .map((rs, ctx) -> new Version(rs.getString("policy_arn"), rs.getString("version_id"), rs.getString("document"),
                        instant(rs, "created_at")))
                .list();
    }

    public Optional<Version> version(String arn, String versionId) {
        return h.createQuery("SELECT * FROM iam_policy_versions WHERE policy_arn = :arn AND version_id = :version")
                .bind("arn", arn)
                .bind("version", versionId)
                .map((rs, ctx) -> new Version(rs.getString("policy_arn"), rs.getString("version_id"), rs.getString("document"),
                        instant(rs, "created_at")))
                .findOne();
    }

    /** The document of the policy's default version. */
    public Optional<String> defaultDocument(String arn) {
        return h.createQuery("SELECT v.document FROM iam_policy_versions v JOIN iam_policies p ON p.arn = v.policy_arn "
                        + "AND p.default_version = v.version_id WHERE p.arn = :arn")
                .bind("arn", arn)
                .mapTo(String.class)
                .findOne();
    }

    public boolean setDefault(String arn, String versionId, Instant at) {
        return execute(h.createUpdate("UPDATE iam_policies SET default_version = :version, updated_at = :at WHERE arn = :arn")
                .bind("version", versionId)
                .bind("at", at.toEpochMilli())
                .bind("arn", arn)) == 1;
    }

    public boolean deleteVersion(String arn, String versionId) {
        return execute(h.createUpdate("DELETE FROM iam_policy_versions WHERE policy_arn = :arn AND version_id = :version")
                .bind("arn", arn)
                .bind("version", versionId)) == 1;
    }

    /** Deletes the policy with its versions and tags; the caller checked it has no attachments and one version. */
    public boolean delete(String accountId, String arn) {
        execute(h.createUpdate("DELETE FROM iam_policy_versions WHERE policy_arn = :arn").bind("arn", arn));
        execute(h.createUpdate("DELETE FROM iam_tags WHERE account_id = :accountId AND resource_type = 'policy' AND resource_key = :arn")
                .bind("accountId", accountId).bind("arn", arn));
        return execute(h.createUpdate("DELETE FROM iam_policies WHERE account_id = :accountId AND arn = :arn")
                .bind("accountId", accountId).bind("arn", arn)) == 1;
    }

    private static ManagedPolicy policy(ResultSet rs) throws SQLException {
        return new ManagedPolicy(rs.getString("account_id"), rs.getString("policy_name"), rs.getString("policy_id"), rs.getString("path"),
                rs.getString("arn"), rs.getString("description"), rs.getString("default_version"), rs.getLong("next_version"),
                instant(rs, "created_at"), instant(rs, "updated_at"), rs.getInt("attachments"));
    }
}
