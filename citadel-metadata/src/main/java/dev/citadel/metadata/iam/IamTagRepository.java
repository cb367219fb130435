package dev.citadel.metadata.iam;

import static dev.citadel.metadata.internal.Sql.execute;
import static java.util.Objects.requireNonNull;

import dev.citadel.metadata.internal.Checks;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jdbi.v3.core.Handle;

/**
 * Tags of IAM users, roles and customer managed policies, and the permissions boundaries of users
 * and roles. A user or role is named by its name (looked up without regard to case), a policy by
 * its ARN. Tag keys are unique per resource without regard to case; setting a key again replaces
 * its value (and the key's spelling).
 */
public final class IamTagRepository {
    public static final Set<String> TYPES = Set.of("user", "role", "policy");

    private final Handle h;

    public IamTagRepository(Handle handle) {
        this.h = requireNonNull(handle, "handle is null");
    }

    private static String resourceKey(String type, String name) {
        return type.equals("policy") ? name : IamNames.key(name);
    }

    /** The tags in key order. */
    public Map<String, String> tags(String accountId, String type, String name) {
        Checks.oneOf("resource type", type, TYPES);
        Map<String, String> out = new LinkedHashMap<>();
        h.createQuery("SELECT tag_key, tag_value FROM iam_tags WHERE account_id = :accountId AND resource_type = :type "
                        + "AND resource_key = :key ORDER BY key_lower")
                .bind("accountId", accountId)
                .bind("type", type)
                .bind("key", resourceKey(type, name))
                .map((rs, ctx) -> Map.entry(rs.getString("tag_key"), rs.getString("tag_value")))
                .forEach(e -> out.put(e.getKey(), e.getValue()));
        return out;
    }

    /** Adds or replaces tags. */
    public void tag(String accountId, String type, String name, Map<String, String> tags) {
        Checks.oneOf("resource type", type, TYPES);
        for (Map.Entry<String, String> t : tags.entrySet()) {
            execute(h.createUpdate("INSERT INTO iam_tags (account_id, resource_type, resource_key, key_lower, tag_key, tag_value) "
                            + "VALUES (:accountId, :type, :key, :lower, :tagKey, :value) ON CONFLICT (account_id, resource_type, resource_key, "
                            + "key_lower) DO UPDATE SET tag_key = excluded.tag_key, tag_value = excluded.tag_value")
                    .bind("accountId", accountId)
                    .bind("type", type)
                    .bind("key", resourceKey(type, name))
                    .bind("lower", t.getKey().toLowerCase(java.util.Locale.ROOT))
                    .bind("tagKey", t.getKey())
                    .bind("value", t.getValue()));
        }
    }

    /** Removes the keys (in any case); keys the resource does not have are ignored, as IAM does. */
    public void untag(String accountId, String type, String name, Iterable<String> keys) {
        for (String k : keys) {
            execute(h.createUpdate("DELETE FROM iam_tags WHERE account_id = :accountId AND resource_type = :type AND resource_key = :key "
                            + "AND key_lower = :lower")
                    .bind("accountId", accountId)
                    .bind("type", type)
                    .bind("key", resourceKey(type, name))
                    .bind("lower", k.toLowerCase(java.util.Locale.ROOT)));
        }
    }

    public void deleteAll(String accountId, String type, String name) {
        execute(h.createUpdate("DELETE FROM iam_tags WHERE account_id = :accountId AND resource_type = :type AND resource_key = :key")
                .bind("accountId", accountId)
                .bind("type", type)
                .bind("key", resourceKey(type, name)));
    }

    /** The permissions boundary of a user or role. */
    public Optional<String> boundary(String accountId, String type, String name) {
        Checks.oneOf("principal type", type, Set.of("user", "role"));
        return h.createQuery("SELECT permissions_boundary FROM iam_" + type + "s WHERE account_id = :accountId AND name_key = :key")
                .bind("accountId", accountId)
                .bind("key", IamNames.key(name))
                .mapTo(String.class)
                .findOne()
                .filter(b -> b != null && !b.isEmpty());
    }

    /** Sets (or, with an empty value, removes) the permissions boundary; returns whether the user or role exists. */
    public boolean setBoundary(String accountId, String type, String name, Optional<String> policyArn) {
        Checks.oneOf("principal type", type, Set.of("user", "role"));
        return execute(h.createUpdate("UPDATE iam_" + type + "s SET permissions_boundary = :arn WHERE account_id = :accountId "
                        + "AND name_key = :key")
                .bind("arn", policyArn.orElse(null))
                .bind("accountId", accountId)
                .bind("key", IamNames.key(name))) == 1;
    }

    /** How many users and roles of the account use the policy as their boundary. */
    public int boundaryUses(String accountId, String policyArn) {
        return h.createQuery("SELECT (SELECT COUNT(*) FROM iam_users WHERE account_id = :accountId AND permissions_boundary = :arn) "
                        + "+ (SELECT COUNT(*) FROM iam_roles WHERE account_id = :accountId AND permissions_boundary = :arn)")
                .bind("accountId", accountId)
                .bind("arn", policyArn)
                .mapTo(Integer.class)
                .one();
    }
}
