package dev.citadel.metadata.accounts;

import static dev.citadel.metadata.internal.Sql.execute;
import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/**
 * Organizational units and where accounts sit in the tree. The root is not stored (its id is
 * derived from the organization's); an account with no parent row is directly under it.
 */
public final class OrganizationUnitRepository {
    /** An OU of that name exists under that parent. */
    public static final String UNIT_NAME = "org_units_parent_id_name_key";

    public record Unit(String id, String arn, String name, String parentId) {
        public Unit {
            requireNonNull(id, "id is null");
            requireNonNull(arn, "arn is null");
            requireNonNull(name, "name is null");
            requireNonNull(parentId, "parentId is null");
        }
    }

    private final Handle h;

    public OrganizationUnitRepository(Handle handle) {
        this.h = requireNonNull(handle, "handle is null");
    }

    public void insert(Unit u) {
        execute(h.createUpdate("INSERT INTO org_units (id, arn, name, parent_id) VALUES (:id, :arn, :name, :parent)")
                .bind("id", u.id()).bind("arn", u.arn()).bind("name", u.name()).bind("parent", u.parentId()));
    }

    public Optional<Unit> unit(String id) {
        return h.createQuery("SELECT * FROM org_units WHERE id = :id").bind("id", id).map((rs, ctx) -> unit(rs)).findOne();
    }

    public List<Unit> all() {
        return h.createQuery("SELECT * FROM org_units ORDER BY id").map((rs, ctx) -> unit(rs)).list();
    }

    public List<Unit> children(String parentId) {
        return h.createQuery("SELECT * FROM org_units WHERE parent_id = :parent ORDER BY name").bind("parent", parentId)
                .map((rs, ctx) -> unit(rs)).list();
    }

    public boolean rename(String id, String name) {
        return execute(h.createUpdate("UPDATE org_units SET name = :name WHERE id = :id").bind("id", id).bind("name", name)) == 1;
    }

    public boolean delete(String id) {
        return execute(h.createUpdate("DELETE FROM org_units WHERE id = :id").bind("id", id)) == 1;
    }

    /** The account's parent: an OU id, or empty for the root. */
    public Optional<String> parentOf(String accountId) {
        return h.createQuery("SELECT parent_id FROM org_account_parents WHERE account_id = :a").bind("a", accountId)
                .mapTo(String.class).findOne();
    }

    /** Moves an account under an OU, or (with an empty value) back under the root. */
    public void setParent(String accountId, Optional<String> unitId) {
        execute(h.createUpdate("DELETE FROM org_account_parents WHERE account_id = :a").bind("a", accountId));
        unitId.ifPresent(u -> execute(h.createUpdate("INSERT INTO org_account_parents (account_id, parent_id) VALUES (:a, :p)")
                .bind("a", accountId).bind("p", u)));
    }

    /** The accounts directly under an OU. */
    public List<String> accountsIn(String unitId) {
        return h.createQuery("SELECT account_id FROM org_account_parents WHERE parent_id = :p ORDER BY account_id").bind("p", unitId)
                .mapTo(String.class).list();
    }

    /** The accounts directly under the root. */
    public List<String> accountsUnderRoot() {
        return h.createQuery("SELECT a.id FROM accounts a LEFT JOIN org_account_parents p ON p.account_id = a.id "
                + "WHERE p.account_id IS NULL ORDER BY a.id").mapTo(String.class).list();
    }

    /** The OUs from the top of the tree down to the account's parent (empty when it is under the root). */
    public List<String> path(String accountId) {
        java.util.ArrayDeque<String> chain = new java.util.ArrayDeque<>();
        Optional<String> parent = parentOf(accountId);
        while (parent.isPresent() && parent.get().startsWith("ou-") && chain.size() < 10) {
            chain.addFirst(parent.get());
            parent = unit(parent.get()).map(Unit::parentId);
        }
        return List.copyOf(chain);
    }

    private static Unit unit(java.sql.ResultSet rs) throws java.sql.SQLException {
        return new Unit(rs.getString("id"), rs.getString("arn"), rs.getString("name"), rs.getString("parent_id"));
    }
}
