package dev.citadel.metadata.accounts;

import static dev.citadel.metadata.internal.Sql.execute;
import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/**
 * Organizations policies (service control policies) and where they are attached: the root or
 * accounts. {@code FullAWSAccess} is the AWS managed SCP; enabling the policy type attaches it to
 * the root and every account, as Organizations does.
 */
public final class OrganizationPolicyRepository {
    public static final String SCP = "SERVICE_CONTROL_POLICY";
    public static final String FULL_AWS_ACCESS_ID = "p-FullAWSAccess";
    public static final String POLICY_NAME = "org_policies_policy_type_name_key";
    public static final String FULL_AWS_ACCESS_CONTENT =
            "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}";

    public record OrgPolicy(String id, String arn, String type, String name, String description, boolean awsManaged, String content) {
        public OrgPolicy {
            requireNonNull(id, "id is null");
            requireNonNull(arn, "arn is null");
            requireNonNull(type, "type is null");
            requireNonNull(name, "name is null");
            requireNonNull(description, "description is null");
            requireNonNull(content, "content is null");
        }
    }

    private final Handle h;

    public OrganizationPolicyRepository(Handle handle) {
        this.h = requireNonNull(handle, "handle is null");
    }

    public void insert(OrgPolicy p) {
        execute(h.createUpdate("INSERT INTO org_policies (id, arn, policy_type, name, description, aws_managed, content) "
                        + "VALUES (:id, :arn, :type, :name, :description, :managed, :content)")
                .bind("id", p.id())
                .bind("arn", p.arn())
                .bind("type", p.type())
                .bind("name", p.name())
                .bind("description", p.description())
                .bind("managed", p.awsManaged() ? 1 : 0)
                .bind("content", p.content()));
    }

    public Optional<OrgPolicy> policy(String id) {
        return h.createQuery("SELECT * FROM org_policies WHERE id = :id").bind("id", id).map((rs, ctx) -> policy(rs)).findOne();
    }

    public List<OrgPolicy> policies(String type) {
        return h.createQuery("SELECT * FROM org_policies WHERE policy_type = :type ORDER BY aws_managed DESC, name")
                .bind("type", type).map((rs, ctx) -> policy(rs)).list();
    }

    public boolean update(String id, String name, String description, String content) {
        return execute(h.createUpdate("UPDATE org_policies SET name = :name, description = :description, content = :content "
                        + "WHERE id = :id AND aws_managed = 0")
                .bind("id", id).bind("name", name).bind("description", description).bind("content", content)) == 1;
    }

    public boolean delete(String id) {
        return execute(h.createUpdate("DELETE FROM org_policies WHERE id = :id AND aws_managed = 0").bind("id", id)) == 1;
    }

    /** Attaches a policy to a target; returns whether it was not attached yet. */
    public boolean attach(String policyId, String targetId) {
        return execute(h.createUpdate("INSERT INTO org_policy_attachments (policy_id, target_id) VALUES (:policy, :target) "
                + "ON CONFLICT DO NOTHING").bind("policy", policyId).bind("target", targetId)) == 1;
    }

    public boolean detach(String policyId, String targetId) {
        return execute(h.createUpdate("DELETE FROM org_policy_attachments WHERE policy_id = :policy AND target_id = :target")
                .bind("policy", policyId).bind("target", targetId)) == 1;
    }

    public void detachAll(String type) {
        execute(h.createUpdate("DELETE FROM org_policy_attachments WHERE policy_id IN (SELECT id FROM org_policies WHERE policy_type = :type)")
                .bind("type", type));
    }

    public List<String> targets(String policyId) {
        return h.createQuery("SELECT target_id FROM org_policy_attachments WHERE policy_id = :policy ORDER BY target_id")
                .bind("policy", policyId).mapTo(String.class).list();
    }

    public List<OrgPolicy> attachedTo(String targetId) {
        return h.createQuery("SELECT p.* FROM org_policies p JOIN org_policy_attachments a ON a.policy_id = p.id "
                        + "WHERE a.target_id = :target ORDER BY p.name")
                .bind("target", targetId).map((rs, ctx) -> policy(rs)).list();
    }

    /** The contents of the policies attached to a target (what evaluation needs). */
    public List<String> contentsAttachedTo(String targetId) {
        return attachedTo(targetId).stream().map(OrgPolicy::content).toList();
    }

    public boolean typeEnabled(String rootId, String type) {
        return h.createQuery("SELECT COUNT(*) FROM org_policy_types WHERE root_id = :root AND policy_type = :type")
                .bind("root", rootId).bind("type", type).mapTo(Integer.class).one() > 0;
    }

    public boolean enableType(String rootId, String type) {
        return execute(h.createUpdate("INSERT INTO org_policy_types (root_id, policy_type) VALUES (:root, :type) ON CONFLICT DO NOTHING")
                .bind("root", rootId).bind("type", type)) == 1;
    }

    public boolean disableType(String rootId, String type) {
        return execute(h.createUpdate("DELETE FROM org_policy_types WHERE root_id = :root AND policy_type = :type")
                .bind("root", rootId).bind("type", type)) == 1;
    }

    private static OrgPolicy policy(java.sql.ResultSet rs) throws java.sql.SQLException {
        return new OrgPolicy(rs.getString("id"), rs.getString("arn"), rs.getString("policy_type"), rs.getString("name"),
                rs.getString("description"), rs.getLong("aws_managed") == 1, rs.getString("content"));
    }
}
