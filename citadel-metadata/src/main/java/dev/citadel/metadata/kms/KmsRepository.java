package dev.citadel.metadata.kms;

import static dev.citadel.metadata.internal.Sql.execute;
import static dev.citadel.metadata.internal.Sql.instant;
import static dev.citadel.metadata.internal.Sql.optionalInstant;
import static java.util.Objects.requireNonNull;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/**
 * KMS keys with their sealed key material versions, aliases, grants and tags. Works on the
 * caller's {@link Handle}; rules (states, limits) are the KMS service's.
 */
public final class KmsRepository {
    public static final String ALIAS_NAME = "kms_aliases_pkey";

    public record Key(String keyId, String accountId, String arn, String description, String keyUsage, String keySpec, String state,
            String policy, boolean rotationEnabled, int rotationPeriodDays, int currentVersion, Optional<Instant> deletionDate,
            Instant createdAt) {
        public Key {
            requireNonNull(keyId, "keyId is null");
            requireNonNull(accountId, "accountId is null");
            requireNonNull(arn, "arn is null");
            requireNonNull(description, "description is null");
            requireNonNull(keyUsage, "keyUsage is null");
            requireNonNull(keySpec, "keySpec is null");
            requireNonNull(state, "state is null");
            requireNonNull(policy, "policy is null");
            requireNonNull(deletionDate, "deletionDate is null");
            requireNonNull(createdAt, "createdAt is null");
        }
    }

    public record Version(String keyId, int version, byte[] materialSealed, Instant createdAt) {
    }

    public record Alias(String accountId, String aliasName, String keyId, Instant createdAt) {
    }

    public record Grant(String grantId, String keyId, String name, String granteePrincipal, String retiringPrincipal, List<String> operations,
            String constraints, String issuingAccount, Instant createdAt) {
    }

    private final Handle h;

    public KmsRepository(Handle handle) {
        this.h = requireNonNull(handle, "handle is null");
    }

    public void insertKey(Key k) {
        execute(h.createUpdate("INSERT INTO kms_keys (key_id, account_id, arn, description, key_usage, key_spec, key_state, policy, "
                        + "rotation_enabled, rotation_period_days, current_version, deletion_date, created_at) VALUES (:id, :account, :arn, "
                        + ":description, :usage, :spec, :state, :policy, :rotation, :period, :version, :deletion, :at)")
                .bind("id", k.keyId()).bind("account", k.accountId()).bind("arn", k.arn()).bind("description", k.description())
                .bind("usage", k.keyUsage()).bind("spec", k.keySpec()).bind("state", k.state()).bind("policy", k.policy())
                .bind("rotation", k.rotationEnabled() ? 1 : 0).bind("period", k.rotationPeriodDays()).bind("version", k.currentVersion())
                .bind("deletion", k.deletionDate().map(Instant::toEpochMilli).orElse(null)).bind("at", k.createdAt().toEpochMilli()));
    }

    public Optional<Key> key(String keyId) {
        return h.createQuery("SELECT * FROM kms_keys WHERE key_id = :id").bind("id", keyId).map((rs, ctx) -> key(rs)).findOne();
    }

    /** The account's keys in key id order, after {@code afterKeyId}, at most {@code limit}. */
    public List<Key> keys(String accountId, String afterKeyId, int limit) {
        return h.createQuery("SELECT * FROM kms_keys WHERE account_id = :a AND key_id > :after ORDER BY key_id LIMIT :limit")
                .bind("a", accountId).bind("after", afterKeyId).bind("limit", limit).map((rs, ctx) -> key(rs)).list();
    }

    /** Keys whose scheduled deletion date has passed. */
    public List<Key> dueForDeletion(Instant now) {
        return h.createQuery("SELECT * FROM kms_keys WHERE key_state = 'PendingDeletion' AND deletion_date <= :now")
                .bind("now", now.toEpochMilli()).map((rs, ctx) -> key(rs)).list();
    }

    public boolean setState(String keyId, String state, Optional<Instant> deletionDate) {
        return execute(h.createUpdate("UPDATE kms_keys SET key_state = :state, deletion_date = :deletion WHERE key_id = :id")
                .bind("state", state).bind("deletion", deletionDate.map(Instant::toEpochMilli).orElse(null)).bind("id", keyId)) == 1;
    }

    public boolean setPolicy(String keyId, String policy) {
        return execute(h.createUpdate("UPDATE kms_keys SET policy = :policy WHERE key_id = :id").bind("policy", policy).bind("id", keyId)) == 1;
    }

    public boolean setRotation(String keyId, boolean enabled, int periodDays) {
        return execute(h.createUpdate("UPDATE kms_keys SET rotation_enabled = :enabled, rotation_period_days = :period WHERE key_id = :id")
                .bind("enabled", enabled ? 1 : 0).bind("period", periodDays).bind("id", keyId)) == 1;
    }

    public void addVersion(String keyId, int version, byte[] materialSealed, Instant at) {
        execute(h.createUpdate("INSERT INTO kms_key_versions (key_id, version, material_sealed, created_at) VALUES (:id, :v, :m, :at)")
                .bind("id", keyId).bind("v", version).bind("m", materialSealed).bind("at", at.toEpochMilli()));
        execute(h.createUpdate("UPDATE kms_keys SET current_version = :v WHERE key_id = :id AND current_version < :v")
                .bind("v", version).bind("id", keyId));
    }

    public Optional<Version> version(String keyId, int version) {
        return h.createQuery("SELECT * FROM kms_key_versions WHERE key_id = :id AND version = :v").bind("id", keyId).bind("v", version)
                .map((rs, ctx) -> new Version(rs.getString("key_id"), rs.getInt("version"), rs.getBytes("material_sealed"),
                        instant(rs, "created_at"))).findOne();
    }

    public List<Version> versions(String keyId) {
        return h.createQuery("SELECT * FROM kms_key_versions WHERE key_id = :id ORDER BY version").bind("id", keyId)
                .map((rs, ctx) -> new Version(rs.getString("key_id"), rs.getInt("version"), rs.getBytes("material_sealed"),
                        instant(rs, "created_at"))).list();
    }

    /** Destroys a key: its material, grants, aliases and tags, then the key itself. What was sealed under it cannot be opened again. */
    public void destroy(String keyId) {
        for (String table : List.of("kms_key_versions", "kms_grants", "kms_aliases", "kms_tags")) {
            execute(h.createUpdate("DELETE FROM " + table + " WHERE key_id = :id").bind("id", keyId));
        }
        execute(h.createUpdate("DELETE FROM kms_keys WHERE key_id = :id").bind("id", keyId));
    }

    public void insertAlias(Alias a) {
        execute(h.createUpdate("INSERT INTO kms_aliases (account_id, alias_name, key_id, created_at) VALUES (:a, :name, :key, :at)")
                .bind("a", a.accountId()).bind("name", a.aliasName()).bind("key", a.keyId()).bind("at", a.createdAt().toEpochMilli()));
    }

    public Optional<Alias> alias(String accountId, String aliasName) {
        return h.createQuery("SELECT * FROM kms_aliases WHERE account_id = :a AND alias_name = :name").bind("a", accountId)
                .bind("name", aliasName).map((rs, ctx) -> alias(rs)).findOne();
    }

    public List<Alias> aliases(String accountId, Optional<String> keyId) {
        return h.createQuery("SELECT * FROM kms_aliases WHERE account_id = :a" + (keyId.isPresent() ? " AND key_id = :key" : "")
                        + " ORDER BY alias_name")
                .bind("a", accountId).bind("key", keyId.orElse("")).map((rs, ctx) -> alias(rs)).list();
    }

    public boolean retargetAlias(String accountId, String aliasName, String keyId) {
        return execute(h.createUpdate("UPDATE kms_aliases SET key_id = :key WHERE account_id = :a AND alias_name = :name")
                .bind("key", keyId).bind("a", accountId).bind("name", aliasName)) == 1;
    }

    public boolean deleteAlias(String accountId, String aliasName) {
        return execute(h.createUpdate("DELETE FROM kms_aliases WHERE account_id = :a AND alias_name = :name")
                .bind("a", accountId).bind("name", aliasName)) == 1;
    }

    public void insertGrant(Grant g) {
        execute(h.createUpdate("INSERT INTO kms_grants (grant_id, key_id, name, grantee_principal, retiring_principal, operations, constraints, "
                        + "issuing_account, created_at) VALUES (:id, :key, :name, :grantee, :retiring, :ops, :constraints, :issuer, :at)")
                .bind("id", g.grantId()).bind("key", g.keyId()).bind("name", g.name()).bind("grantee", g.granteePrincipal())
                .bind("retiring", g.retiringPrincipal()).bind("ops", String.join(",", g.operations())).bind("constraints", g.constraints())
                .bind("issuer", g.issuingAccount()).bind("at", g.createdAt().toEpochMilli()));
    }

    public List<Grant> grants(String keyId) {
        return h.createQuery("SELECT * FROM kms_grants WHERE key_id = :key ORDER BY created_at, grant_id").bind("key", keyId)
                .map((rs, ctx) -> grant(rs)).list();
    }

    public Optional<Grant> grant(String keyId, String grantId) {
        return h.createQuery("SELECT * FROM kms_grants WHERE key_id = :key AND grant_id = :id").bind("key", keyId).bind("id", grantId)
                .map((rs, ctx) -> grant(rs)).findOne();
    }

    public boolean deleteGrant(String grantId) {
        return execute(h.createUpdate("DELETE FROM kms_grants WHERE grant_id = :id").bind("id", grantId)) == 1;
    }

    public Map<String, String> tags(String keyId) {
        Map<String, String> out = new LinkedHashMap<>();
        h.createQuery("SELECT tag_key, tag_value FROM kms_tags WHERE key_id = :id ORDER BY tag_key").bind("id", keyId)
                .map((rs, ctx) -> Map.entry(rs.getString(1), rs.getString(2))).forEach(e -> out.put(e.getKey(), e.getValue()));
        return out;
    }

    public void tag(String keyId, Map<String, String> tags) {
        tags.forEach((k, v) -> execute(h.createUpdate("INSERT INTO kms_tags (key_id, tag_key, tag_value) VALUES (:id, :k, :v) "
                + "ON CONFLICT (key_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value").bind("id", keyId).bind("k", k).bind("v", v)));
    }

    public void untag(String keyId, List<String> keys) {
        keys.forEach(k -> execute(h.createUpdate("DELETE FROM kms_tags WHERE key_id = :id AND tag_key = :k").bind("id", keyId).bind("k", k)));
    }

    private static Key key(ResultSet rs) throws SQLException {
        return new Key(rs.getString("key_id"), rs.getString("account_id"), rs.getString("arn"), rs.getString("description"),
                rs.getString("key_usage"), rs.getString("key_spec"), rs.getString("key_state"), rs.getString("policy"),
                rs.getLong("rotation_enabled") == 1, rs.getInt("rotation_period_days"), rs.getInt("current_version"),
                optionalInstant(rs, "deletion_date"), instant(rs, "created_at"));
    }

    private static Alias alias(ResultSet rs) throws SQLException {
        return new Alias(rs.getString("account_id"), rs.getString("alias_name"), rs.getString("key_id"), instant(rs, "created_at"));
    }

    private static Grant grant(ResultSet rs) throws SQLException {
        return new Grant(rs.getString("grant_id"), rs.getString("key_id"), rs.getString("name"), rs.getString("grantee_principal"),
                rs.getString("retiring_principal"), List.of(rs.getString("operations").split(",")), rs.getString("constraints"),
                rs.getString("issuing_account"), instant(rs, "created_at"));
    }
}
