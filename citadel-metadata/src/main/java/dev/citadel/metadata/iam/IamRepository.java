package dev.citadel.metadata.iam;

import static dev.citadel.metadata.internal.Sql.execute;
import static dev.citadel.metadata.internal.Sql.instant;
import static dev.citadel.metadata.internal.Sql.millis;
import static dev.citadel.metadata.internal.Sql.optionalInstant;
import static java.util.Objects.requireNonNull;

import dev.citadel.metadata.DuplicateKeyException;
import dev.citadel.metadata.Page;
import dev.citadel.metadata.internal.Checks;
import dev.citadel.metadata.internal.Pages;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.jdbi.v3.core.Handle;

/**
 * IAM users, roles, access keys and managed-policy attachments of an account. Works on the
 * caller's {@link Handle}, so several repositories share one transaction. Names are looked up
 * without regard to case. Inserts of a row whose key or unique value exists throw
 * {@link DuplicateKeyException} naming one of the constraints below.
 *
 * <p>Service rules that count rows (at most two access keys per user, at most ten managed
 * policies per principal) are the caller's: in one transaction, {@link #lockUser} (so that
 * concurrent transactions on PostgreSQL queue instead of both seeing room), count, then insert.
 */
public final class IamRepository {
    /** A user of that name (in any case) exists in the account: IAM's {@code EntityAlreadyExists}. */
    public static final String USER_NAME = "iam_users_pkey";
    public static final String USER_ID = "iam_users_user_id_key";
    /** A role of that name (in any case) exists in the account: IAM's {@code EntityAlreadyExists}. */
    public static final String ROLE_NAME = "iam_roles_pkey";
    public static final String ROLE_ID = "iam_roles_role_id_key";
    public static final String ACCESS_KEY_ID = "iam_access_keys_pkey";
    public static final String GROUP_NAME = "iam_groups_pkey";
    public static final String GROUP_ID = "iam_groups_group_id_key";
    public static final Set<String> PRINCIPAL_TYPES = Set.of("user", "role", "group");

    /** The authentication hot path: the key by its primary key, its user by the user's primary key. */
    static final String FIND_ACCESS_KEY = "SELECT k.access_key_id, k.account_id, k.user_name_key, k.secret_sealed, k.status, k.created_at, "
            + "k.last_used_at, u.user_name, u.user_id, u.path, u.arn, u.created_at AS user_created_at "
            + "FROM iam_access_keys k JOIN iam_users u ON u.account_id = k.account_id AND u.name_key = k.user_name_key "
            + "WHERE k.access_key_id = :id";

    private static final String USER_COLUMNS = "account_id, user_name, user_id, path, arn, created_at";
    private static final String ROLE_COLUMNS = "account_id, role_name, role_id, path, arn, assume_role_policy_document, description, "
            + "max_session_duration, created_at";
    private static final String KEY_COLUMNS = "access_key_id, account_id, user_name_key, secret_sealed, status, created_at, last_used_at";

    private final Handle h;

    public IamRepository(Handle handle) {
        this.h = requireNonNull(handle, "handle is null");
    }

    public void insertUser(IamUser u) {
        execute(h.createUpdate("INSERT INTO iam_users (account_id, name_key, user_name, user_id, path, arn, created_at) "
                        + "VALUES (:accountId, :nameKey, :userName, :userId, :path, :arn, :createdAt)")
                .bind("accountId", u.accountId())
                .bind("nameKey", u.nameKey())
                .bind("userName", u.userName())
                .bind("userId", u.userId())
                .bind("path", u.path())
                .bind("arn", u.arn())
                .bind("createdAt", millis(u.createdAt())));
    }

    public Optional<IamUser> user(String accountId, String userName) {
        return h.createQuery("SELECT " + USER_COLUMNS + " FROM iam_users WHERE account_id = :accountId AND name_key = :nameKey")
                .bind("accountId", accountId)
                .bind("nameKey", IamNames.key(userName))
                .map((rs, ctx) -> user(rs, "created_at"))
                .findOne();
    }

    /** Users whose path starts with {@code pathPrefix} ("/" for all), in name order, {@code maxItems} (1 to 1000) at a time. */
    public Page<IamUser> listUsers(String accountId, String pathPrefix, Optional<String> token, int maxItems) {
        Checks.matching("path prefix", pathPrefix, IamNames.PATH_PREFIX);
        String after = Pages.after("iam-users", token, maxItems);
        List<IamUser> rows = h.createQuery("SELECT " + USER_COLUMNS + " FROM iam_users WHERE account_id = :accountId "
                        + "AND name_key > :after AND substr(path, 1, :prefixLength) = :prefix ORDER BY name_key LIMIT :limit")
                .bind("accountId", accountId)
                .bind("after", after)
                .bind("prefixLength", pathPrefix.length())
                .bind("prefix", pathPrefix)
                .bind("limit", maxItems + 1)
                .map((rs, ctx) -> user(rs, "created_at"))
                .list();
        return Pages.of("iam-users", rows, maxItems, IamUser::nameKey);
    }

    /**
     * Renames or moves the user {@code userName} to {@code updated}'s name, path and ARN (UpdateUser);
     * its access keys and policy attachments follow. Returns false, changing nothing, if there is
     * no such user with {@code updated}'s unique id.
     */
    public boolean updateUser(String userName, IamUser updated) {
        String oldKey = IamNames.key(userName);
        boolean found = execute(h.createUpdate("UPDATE iam_users SET name_key = :nameKey, user_name = :userName, path = :path, arn = :arn "
                        + "WHERE account_id = :accountId AND name_key = :oldKey AND user_id = :userId")
                .bind("nameKey", updated.nameKey())
                .bind("userName", updated.userName())
                .bind("path", updated.path())
                .bind("arn", updated.arn())
                .bind("accountId", updated.accountId())
                .bind("oldKey", oldKey)
                .bind("userId", updated.userId())) == 1;
        if (found) {
            renameAttachments(updated.accountId(), "user", oldKey, updated.nameKey());
        }
        return found;
    }

    /**
     * Deletes a user and its policy attachments, so that a new user of the same name starts with
     * none. Its access keys must be deleted first (a foreign key refuses otherwise, as IAM's
     * DeleteConflict does). Returns whether the user existed.
     */
    public boolean deleteUser(String accountId, String userName) {
        detachAll(accountId, "user", userName);
        return execute(h.createUpdate("DELETE FROM iam_users WHERE account_id = :accountId AND name_key = :nameKey")
                .bind("accountId", accountId)
                .bind("nameKey", IamNames.key(userName))) == 1;
    }

    /**
     * Locks the user's row until the end of the transaction, so that read-count-insert rules on its
     * keys and attachments hold under concurrency on PostgreSQL (SQLite write transactions exclude
     * each other already). Returns whether the user exists.
     */
    public boolean lockUser(String accountId, String userName) {
        return execute(h.createUpdate("UPDATE iam_users SET path = path WHERE account_id = :accountId AND name_key = :nameKey")
                .bind("accountId", accountId)
                .bind("nameKey", IamNames.key(userName))) == 1;
    }

    public void insertRole(IamRole r) {
        execute(h.createUpdate("INSERT INTO iam_roles (account_id, name_key, role_name, role_id, path, arn, assume_role_policy_document, "
                        + "description, max_session_duration, created_at) VALUES (:accountId, :nameKey, :roleName, :roleId, :path, :arn, "
                        + ":trustPolicy, :description, :maxSessionDuration, :createdAt)")
                .bind("accountId", r.accountId())
                .bind("nameKey", r.nameKey())
                .bind("roleName", r.roleName())
                .bind("roleId", r.roleId())
                .bind("path", r.path())
                .bind("arn", r.arn())
                .bind("trustPolicy", r.assumeRolePolicyDocument())
                .bind("description", r.description())
                .bind("maxSessionDuration", (long) r.maxSessionDuration())
                .bind("createdAt", millis(r.createdAt())));
    }

    public Optional<IamRole> role(String accountId, String roleName) {
        return h.createQuery("SELECT " + ROLE_COLUMNS + " FROM iam_roles WHERE account_id = :accountId AND name_key = :nameKey")
                .bind("accountId", accountId)
                .bind("nameKey", IamNames.key(roleName))
                .map((rs, ctx) -> role(rs))
                .findOne();
    }

    /** Roles whose path starts with {@code pathPrefix} ("/" for all), in name order, {@code maxItems} (1 to 1000) at a time. */
    public Page<IamRole> listRoles(String accountId, String pathPrefix, Optional<String> token, int maxItems) {
        Checks.matching("path prefix", pathPrefix, IamNames.PATH_PREFIX);
        String after = Pages.after("iam-roles", token, maxItems);
        List<IamRole> rows = h.createQuery("SELECT " + ROLE_COLUMNS + " FROM iam_roles WHERE account_id = :accountId "
                        + "AND name_key > :after AND substr(path, 1, :prefixLength) = :prefix ORDER BY name_key LIMIT :limit")
                .bind("accountId", accountId)
                .bind("after", after)
                .bind("prefixLength", pathPrefix.length())
                .bind("prefix", pathPrefix)
                .bind("limit", maxItems + 1)
                .map((rs, ctx) -> role(rs))
                .list();
        return Pages.of("iam-roles", rows, maxItems, IamRole::nameKey);
    }

    /** UpdateRole: the description and the longest session. Returns whether the role exists. */
    public boolean updateRole(String accountId, String roleName, String description, int maxSessionDuration) {
        Checks.length("description", description, 0, 1000);
        IamRole.checkSessionDuration(maxSessionDuration);
        return execute(h.createUpdate("UPDATE iam_roles SET description = :description, max_session_duration = :maxSessionDuration "
                        + "WHERE account_id = :accountId AND name_key = :nameKey")
                .bind("description", description)
                .bind("maxSessionDuration", (long) maxSessionDuration)
                .bind("accountId", accountId)
                .bind("nameKey", IamNames.key(roleName))) == 1;
    }

    /** UpdateAssumeRolePolicy. Returns whether the role exists. */
    public boolean updateAssumeRolePolicy(String accountId, String roleName, String document) {
        Checks.length("assume role policy document", document, 1, IamRole.MAX_POLICY_LENGTH);
        return execute(h.createUpdate("UPDATE iam_roles SET assume_role_policy_document = :document "
                        + "WHERE account_id = :accountId AND name_key = :nameKey")
                .bind("document", document)
                .bind("accountId", accountId)
                .bind("nameKey", IamNames.key(roleName))) == 1;
    }

    /** Deletes a role and its policy attachments. Returns whether the role existed. */
    public boolean deleteRole(String accountId, String roleName) {
        detachAll(accountId, "role", roleName);
        return execute(h.createUpdate("DELETE FROM iam_roles WHERE account_id = :accountId AND name_key = :nameKey")
                .bind("accountId", accountId)
                .bind("nameKey", IamNames.key(roleName))) == 1;
    }

    /** Stores a key. Its user must exist (a foreign key refuses otherwise). */
    public void insertAccessKey(AccessKey k) {
        execute(h.createUpdate("INSERT INTO iam_access_keys (" + KEY_COLUMNS + ") "
                        + "VALUES (:accessKeyId, :accountId, :userNameKey, :secretSealed, :status, :createdAt, :lastUsedAt)")
                .bind("accessKeyId", k.accessKeyId())
                .bind("accountId", k.accountId())
                .bind("userNameKey", k.userNameKey())
                .bind("secretSealed", k.secretSealed())
                .bind("status", k.status())
                .bind("createdAt", millis(k.createdAt()))
                .bind("lastUsedAt", millis(k.lastUsedAt())));
    }

    /** A user's keys, oldest first (a user has at most a few). */
    public List<AccessKey> accessKeys(String accountId, String userName) {
        return h.createQuery("SELECT " + KEY_COLUMNS + " FROM iam_access_keys WHERE account_id = :accountId AND user_name_key = :nameKey "
                        + "ORDER BY created_at, access_key_id")
                .bind("accountId", accountId)
                .bind("nameKey", IamNames.key(userName))
                .map((rs, ctx) -> accessKey(rs))
                .list();
    }

    public int countAccessKeys(String accountId, String userName) {
        return h.createQuery("SELECT COUNT(*) FROM iam_access_keys WHERE account_id = :accountId AND user_name_key = :nameKey")
                .bind("accountId", accountId)
                .bind("nameKey", IamNames.key(userName))
                .mapTo(Integer.class)
                .one();
    }

    /** UpdateAccessKey: Active or Inactive. Returns whether the user has that key. */
    public boolean updateAccessKeyStatus(String accountId, String userName, String accessKeyId, String status) {
        Checks.oneOf("access key status", status, AccessKey.STATUSES);
        return execute(h.createUpdate("UPDATE iam_access_keys SET status = :status "
                        + "WHERE access_key_id = :id AND account_id = :accountId AND user_name_key = :nameKey")
                .bind("status", status)
                .bind("id", accessKeyId)
                .bind("accountId", accountId)
                .bind("nameKey", IamNames.key(userName))) == 1;
    }

    /** DeleteAccessKey. Returns whether the user had that key. */
    public boolean deleteAccessKey(String accountId, String userName, String accessKeyId) {
        return execute(h.createUpdate("DELETE FROM iam_access_keys WHERE access_key_id = :id AND account_id = :accountId "
                        + "AND user_name_key = :nameKey")
                .bind("id", accessKeyId)
                .bind("accountId", accountId)
                .bind("nameKey", IamNames.key(userName))) == 1;
    }

    /**
     * Records that a key was used at {@code at}, unless a later use is recorded already. The caller
     * decides how often to call this: it is a write, and not needed on every request.
     */
    public boolean recordAccessKeyUse(String accessKeyId, Instant at) {
        long millis = millis(at);
        return execute(h.createUpdate("UPDATE iam_access_keys SET last_used_at = :at "
                        + "WHERE access_key_id = :id AND (last_used_at IS NULL OR last_used_at < :at)")
                .bind("at", millis)
                .bind("id", accessKeyId)) == 1;
    }

    /** The key and its user in one indexed query: the authentication hot path. */
    public Optional<SigningIdentity> findAccessKey(String accessKeyId) {
        return h.createQuery(FIND_ACCESS_KEY)
                .bind("id", accessKeyId)
                .map((rs, ctx) -> new SigningIdentity(accessKey(rs), user(rs, "user_created_at")))
                .findOne();
    }

    /**
     * The former name of {@link #findAccessKey}.
     *
     * @deprecated use {@link #findAccessKey}
     */
    @Deprecated(forRemoval = true)
    public Optional<SigningIdentity> signingIdentity(String accessKeyId) {
        return findAccessKey(accessKeyId);
    }

    /** Attaches a managed policy; attaching it again changes nothing. Returns whether it was newly attached. */
    public boolean attachPolicy(String accountId, String principalType, String principalName, String policyArn) {
        Checks.oneOf("principal type", principalType, PRINCIPAL_TYPES);
        Checks.check(policyArn.startsWith("arn:") && policyArn.length() <= 2048, "policy arn must be an ARN of at most 2048 characters");
        return execute(h.createUpdate("INSERT INTO iam_attached_policies (account_id, principal_type, principal_name_key, policy_arn) "
                        + "VALUES (:accountId, :type, :nameKey, :policyArn) ON CONFLICT DO NOTHING")
                .bind("accountId", accountId)
                .bind("type", principalType)
                .bind("nameKey", IamNames.key(principalName))
                .bind("policyArn", policyArn)) == 1;
    }

    public void insertGroup(IamGroup g) {
        execute(h.createUpdate("INSERT INTO iam_groups (account_id, name_key, group_name, group_id, path, arn, created_at) "
                        + "VALUES (:accountId, :nameKey, :name, :id, :path, :arn, :at)")
                .bind("accountId", g.accountId())
                .bind("nameKey", IamNames.key(g.groupName()))
                .bind("name", g.groupName())
                .bind("id", g.groupId())
                .bind("path", g.path())
                .bind("arn", g.arn())
                .bind("at", g.createdAt().toEpochMilli()));
    }

    public Optional<IamGroup> group(String accountId, String groupName) {
        return h.createQuery("SELECT * FROM iam_groups WHERE account_id = :accountId AND name_key = :nameKey")
                .bind("accountId", accountId)
                .bind("nameKey", IamNames.key(groupName))
                .map((rs, ctx) -> group(rs))
                .findOne();
    }

    /** Deletes a group with no members; returns whether it existed. The caller checks members and policies first. */
    public boolean deleteGroup(String accountId, String groupName) {
        return execute(h.createUpdate("DELETE FROM iam_groups WHERE account_id = :accountId AND name_key = :nameKey")
                .bind("accountId", accountId)
                .bind("nameKey", IamNames.key(groupName))) == 1;
    }

    /** Adds a user to a group; returns whether it was not a member yet. */
    public boolean addUserToGroup(String accountId, String groupName, String userName) {
        return execute(h.createUpdate("INSERT INTO iam_group_members (account_id, group_name_key, user_name_key) "
                        + "VALUES (:accountId, :group, :user) ON CONFLICT DO NOTHING")
                .bind("accountId", accountId)
                .bind("group", IamNames.key(groupName))
                .bind("user", IamNames.key(userName))) == 1;
    }

    public boolean removeUserFromGroup(String accountId, String groupName, String userName) {
        return execute(h.createUpdate("DELETE FROM iam_group_members WHERE account_id = :accountId AND group_name_key = :group "
                        + "AND user_name_key = :user")
                .bind("accountId", accountId)
                .bind("group", IamNames.key(groupName))
                .bind("user", IamNames.key(userName))) == 1;
    }

    /** The groups a user belongs to, by name. */
    public List<IamGroup> groupsForUser(String accountId, String userName) {
        return h.createQuery("SELECT g.* FROM iam_groups g JOIN iam_group_members m ON m.account_id = g.account_id "
                        + "AND m.group_name_key = g.name_key WHERE m.account_id = :accountId AND m.user_name_key = :user ORDER BY g.name_key")
                .bind("accountId", accountId)
                .bind("user", IamNames.key(userName))
                .map((rs, ctx) -> group(rs))
                .list();
    }

    /** The users in a group, by name. */
    public List<IamUser> groupMembers(String accountId, String groupName) {
        return h.createQuery("SELECT u.* FROM iam_users u JOIN iam_group_members m ON m.account_id = u.account_id "
                        + "AND m.user_name_key = u.name_key WHERE m.account_id = :accountId AND m.group_name_key = :group ORDER BY u.name_key")
                .bind("accountId", accountId)
                .bind("group", IamNames.key(groupName))
                .map((rs, ctx) -> new IamUser(rs.getString("account_id"), rs.getString("user_name"), rs.getString("user_id"),
                        rs.getString("path"), rs.getString("arn"), instant(rs, "created_at")))
                .list();
    }

    private static IamGroup group(ResultSet rs) throws SQLException {
        return new IamGroup(rs.getString("account_id"), rs.getString("group_name"), rs.getString("group_id"), rs.getString("path"),
                rs.getString("arn"), instant(rs, "created_at"));
    }

    /** Creates or replaces an inline policy of a user, role or group; the document was validated by the caller. */
    public void putInlinePolicy(String accountId, String principalType, String principalName, String policyName, String document) {
        Checks.oneOf("principal type", principalType, PRINCIPAL_TYPES);
        Checks.check(!policyName.isEmpty() && policyName.length() <= 128, "policy name must be 1 to 128 characters");
        execute(h.createUpdate("INSERT INTO iam_inline_policies (account_id, principal_type, principal_name_key, policy_name, document) "
                        + "VALUES (:accountId, :type, :nameKey, :policyName, :document) "
                        + "ON CONFLICT (account_id, principal_type, principal_name_key, policy_name) DO UPDATE SET document = excluded.document")
                .bind("accountId", accountId)
                .bind("type", principalType)
                .bind("nameKey", IamNames.key(principalName))
                .bind("policyName", policyName)
                .bind("document", document));
    }

    /** An inline policy's document. */
    public Optional<String> inlinePolicy(String accountId, String principalType, String principalName, String policyName) {
        return h.createQuery("SELECT document FROM iam_inline_policies WHERE account_id = :accountId AND principal_type = :type "
                        + "AND principal_name_key = :nameKey AND policy_name = :policyName")
                .bind("accountId", accountId)
                .bind("type", principalType)
                .bind("nameKey", IamNames.key(principalName))
                .bind("policyName", policyName)
                .mapTo(String.class)
                .findOne();
    }

    /** The inline policies of a principal, name to document, in name order. */
    public java.util.Map<String, String> inlinePolicies(String accountId, String principalType, String principalName) {
        java.util.Map<String, String> out = new java.util.LinkedHashMap<>();
        h.createQuery("SELECT policy_name, document FROM iam_inline_policies WHERE account_id = :accountId AND principal_type = :type "
                        + "AND principal_name_key = :nameKey ORDER BY policy_name")
                .bind("accountId", accountId)
                .bind("type", principalType)
                .bind("nameKey", IamNames.key(principalName))
                .map((rs, ctx) -> java.util.Map.entry(rs.getString("policy_name"), rs.getString("document")))
                .forEach(e -> out.put(e.getKey(), e.getValue()));
        return out;
    }

    /** Deletes an inline policy. Returns whether it existed. */
    public boolean deleteInlinePolicy(String accountId, String principalType, String principalName, String policyName) {
        return execute(h.createUpdate("DELETE FROM iam_inline_policies WHERE account_id = :accountId AND principal_type = :type "
                        + "AND principal_name_key = :nameKey AND policy_name = :policyName")
                .bind("accountId", accountId)
                .bind("type", principalType)
                .bind("nameKey", IamNames.key(principalName))
                .bind("policyName", policyName)) == 1;
    }

    /** Detaches a managed policy. Returns whether it was attached. */
    public boolean detachPolicy(String accountId, String principalType, String principalName, String policyArn) {
        return execute(h.createUpdate("DELETE FROM iam_attached_policies WHERE account_id = :accountId AND principal_type = :type "
                        + "AND principal_name_key = :nameKey AND policy_arn = :policyArn")
                .bind("accountId", accountId)
                .bind("type", principalType)
                .bind("nameKey", IamNames.key(principalName))
                .bind("policyArn", policyArn)) == 1;
    }

    /** All policies attached to a principal, in ARN order (what authorization needs). */
    public List<String> attachedPolicies(String accountId, String principalType, String principalName) {
        return h.createQuery("SELECT policy_arn FROM iam_attached_policies WHERE account_id = :accountId AND principal_type = :type "
                        + "AND principal_name_key = :nameKey ORDER BY policy_arn")
                .bind("accountId", accountId)
                .bind("type", principalType)
                .bind("nameKey", IamNames.key(principalName))
                .mapTo(String.class)
                .list();
    }

    /** ListAttached{User,Role,Group}Policies: policy ARNs in order, {@code maxItems} (1 to 1000) at a time. */
    public Page<String> listAttachedPolicies(String accountId, String principalType, String principalName, Optional<String> token,
            int maxItems) {
        String after = Pages.after("iam-attached-policies", token, maxItems);
        List<String> rows = h.createQuery("SELECT policy_arn FROM iam_attached_policies WHERE account_id = :accountId "
                        + "AND principal_type = :type AND principal_name_key = :nameKey AND policy_arn > :after ORDER BY policy_arn LIMIT :limit")
                .bind("accountId", accountId)
                .bind("type", principalType)
                .bind("nameKey", IamNames.key(principalName))
                .bind("after", after)
                .bind("limit", maxItems + 1)
                .mapTo(String.class)
                .list();
        return Pages.of("iam-attached-policies", rows, maxItems, arn -> arn);
    }

    public int countAttachedPolicies(String accountId, String principalType, String principalName) {
        return h.createQuery("SELECT COUNT(*) FROM iam_attached_policies WHERE account_id = :accountId AND principal_type = :type "
                        + "AND principal_name_key = :nameKey")
                .bind("accountId", accountId)
                .bind("type", principalType)
                .bind("nameKey", IamNames.key(principalName))
                .mapTo(Integer.class)
                .one();
    }

    private void renameAttachments(String accountId, String principalType, String oldKey, String newKey) {
        execute(h.createUpdate("UPDATE iam_attached_policies SET principal_name_key = :newKey WHERE account_id = :accountId "
                        + "AND principal_type = :type AND principal_name_key = :oldKey")
                .bind("newKey", newKey)
                .bind("accountId", accountId)
                .bind("type", principalType)
                .bind("oldKey", oldKey));
    }

    private void detachAll(String accountId, String principalType, String principalName) {
        execute(h.createUpdate("DELETE FROM iam_attached_policies WHERE account_id = :accountId AND principal_type = :type "
                        + "AND principal_name_key = :nameKey")
                .bind("accountId", accountId)
                .bind("type", principalType)
                .bind("nameKey", IamNames.key(principalName)));
    }

    private static IamUser user(ResultSet rs, String createdAtColumn) throws SQLException {
        return new IamUser(rs.getString("account_id"), rs.getString("user_name"), rs.getString("user_id"), rs.getString("path"),
                rs.getString("arn"), instant(rs, createdAtColumn));
    }

    private static IamRole role(ResultSet rs) throws SQLException {
        return new IamRole(rs.getString("account_id"), rs.getString("role_name"), rs.getString("role_id"), rs.getString("path"),
                rs.getString("arn"), rs.getString("assume_role_policy_document"), rs.getString("description"),
                Math.toIntExact(rs.getLong("max_session_duration")), instant(rs, "created_at"));
    }

    private static AccessKey accessKey(ResultSet rs) throws SQLException {
        return new AccessKey(rs.getString("access_key_id"), rs.getString("account_id"), rs.getString("user_name_key"),
                rs.getBytes("secret_sealed"), rs.getString("status"), instant(rs, "created_at"), optionalInstant(rs, "last_used_at"));
    }
}
