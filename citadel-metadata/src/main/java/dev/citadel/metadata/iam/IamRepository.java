package dev.citadel.metadata.iam;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/** IAM users, roles, access keys and policy attachments, on one handle. */
public final class IamRepository {
    private final Handle h;

    public IamRepository(Handle handle) {
        this.h = handle;
    }

    public void insertUser(IamUser u) {
        h.createUpdate("INSERT INTO iam_users (account_id, name_key, user_name, user_id, path, arn, created_at) "
                        + "VALUES (:account, :key, :name, :id, :path, :arn, :at)")
                .bind("account", u.accountId()).bind("key", u.nameKey()).bind("name", u.userName()).bind("id", u.userId())
                .bind("path", u.path()).bind("arn", u.arn()).bind("at", u.createdAt().toEpochMilli())
                .execute();
    }

    public Optional<IamUser> user(String accountId, String userName) {
        return h.createQuery("SELECT * FROM iam_users WHERE account_id = :account AND name_key = :key")
                .bind("account", accountId).bind("key", IamUser.nameKey(userName))
                .map((rs, ctx) -> user(rs, "")).findFirst();
    }

    public void insertRole(IamRole r) {
        h.createUpdate("INSERT INTO iam_roles (account_id, name_key, role_name, role_id, path, arn, assume_role_policy_document, "
                        + "description, max_session_duration, created_at) VALUES (:account, :key, :name, :id, :path, :arn, :trust, "
                        + ":description, :maxSession, :at)")
                .bind("account", r.accountId()).bind("key", IamUser.nameKey(r.roleName())).bind("name", r.roleName())
                .bind("id", r.roleId()).bind("path", r.path()).bind("arn", r.arn()).bind("trust", r.assumeRolePolicyDocument())
                .bind("description", r.description()).bind("maxSession", (long) r.maxSessionDuration())
                .bind("at", r.createdAt().toEpochMilli())
                .execute();
    }

    public Optional<IamRole> role(String accountId, String roleName) {
        return h.createQuery("SELECT * FROM iam_roles WHERE account_id = :account AND name_key = :key")
                .bind("account", accountId).bind("key", IamUser.nameKey(roleName))
                .map((rs, ctx) -> new IamRole(rs.getString("account_id"), rs.getString("role_name"), rs.getString("role_id"),
                        rs.getString("path"), rs.getString("arn"), rs.getString("assume_role_policy_document"),
                        rs.getString("description"), (int) rs.getLong("max_session_duration"),
                        Instant.ofEpochMilli(rs.getLong("created_at"))))
                .findFirst();
    }

    public void insertAccessKey(AccessKey k) {
        h.createUpdate("INSERT INTO iam_access_keys (access_key_id, account_id, user_name_key, secret_sealed, status, created_at) "
                        + "VALUES (:id, :account, :user, :secret, :status, :at)")
                .bind("id", k.accessKeyId()).bind("account", k.accountId()).bind("user", k.userNameKey())
                .bind("secret", k.secretSealed()).bind("status", k.status()).bind("at", k.createdAt().toEpochMilli())
                .execute();
    }

    public int countAccessKeys(String accountId, String userName) {
        return h.createQuery("SELECT COUNT(*) FROM iam_access_keys WHERE account_id = :account AND user_name_key = :user")
                .bind("account", accountId).bind("user", IamUser.nameKey(userName)).mapTo(Integer.class).one();
    }

    /** The key and its user in one indexed query: the authentication hot path. */
    public Optional<SigningIdentity> signingIdentity(String accessKeyId) {
        return h.createQuery("SELECT k.access_key_id, k.account_id AS k_account, k.user_name_key, k.secret_sealed, k.status, "
                        + "k.created_at AS k_created, u.* FROM iam_access_keys k "
                        + "JOIN iam_users u ON u.account_id = k.account_id AND u.name_key = k.user_name_key "
                        + "WHERE k.access_key_id = :id")
                .bind("id", accessKeyId)
                .map((rs, ctx) -> new SigningIdentity(
                        new AccessKey(rs.getString("access_key_id"), rs.getString("k_account"), rs.getString("user_name_key"),
                                rs.getBytes("secret_sealed"), rs.getString("status"), Instant.ofEpochMilli(rs.getLong("k_created"))),
                        user(rs, "")))
                .findFirst();
    }

    public void attachPolicy(String accountId, String principalType, String principalName, String policyArn) {
        h.createUpdate("INSERT INTO iam_attached_policies (account_id, principal_type, principal_key, policy_arn) "
                        + "VALUES (:account, :type, :key, :arn)")
                .bind("account", accountId).bind("type", principalType).bind("key", IamUser.nameKey(principalName))
                .bind("arn", policyArn).execute();
    }

    public List<String> attachedPolicies(String accountId, String principalType, String principalName) {
        return h.createQuery("SELECT policy_arn FROM iam_attached_policies WHERE account_id = :account AND principal_type = :type "
                        + "AND principal_key = :key ORDER BY policy_arn")
                .bind("account", accountId).bind("type", principalType).bind("key", IamUser.nameKey(principalName))
                .mapTo(String.class).list();
    }

    private static IamUser user(ResultSet rs, String prefix) throws SQLException {
        return new IamUser(rs.getString(prefix + "account_id"), rs.getString(prefix + "user_name"), rs.getString(prefix + "user_id"),
                rs.getString(prefix + "path"), rs.getString(prefix + "arn"), Instant.ofEpochMilli(rs.getLong(prefix + "created_at")));
    }
}
