package dev.citadel.metadata.accounts;

import dev.citadel.metadata.Page;
import dev.citadel.metadata.PageTokens;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/** The organization, its accounts and the CreateAccount requests, on one handle (so callers compose transactions). */
public final class AccountRepository {
    private final Handle h;

    public AccountRepository(Handle handle) {
        this.h = handle;
    }

    public void insertOrganization(Organization o) {
        h.createUpdate("INSERT INTO organizations (id, arn, feature_set, management_account_id, management_account_email, created_at) "
                        + "VALUES (:id, :arn, :fs, :mgmt, :email, :at)")
                .bind("id", o.id()).bind("arn", o.arn()).bind("fs", o.featureSet()).bind("mgmt", o.managementAccountId())
                .bind("email", o.managementAccountEmail()).bind("at", o.createdAt().toEpochMilli())
                .execute();
    }

    public Optional<Organization> organization() {
        return h.createQuery("SELECT * FROM organizations").map((rs, ctx) -> new Organization(rs.getString("id"), rs.getString("arn"),
                rs.getString("feature_set"), rs.getString("management_account_id"), rs.getString("management_account_email"),
                Instant.ofEpochMilli(rs.getLong("created_at")))).findFirst();
    }

    public void insertAccount(Account a) {
        h.createUpdate("INSERT INTO accounts (id, arn, name, email, status, joined_method, joined_at) "
                        + "VALUES (:id, :arn, :name, :email, :status, :method, :at)")
                .bind("id", a.id()).bind("arn", a.arn()).bind("name", a.name()).bind("email", a.email())
                .bind("status", a.status()).bind("method", a.joinedMethod()).bind("at", a.joinedAt().toEpochMilli())
                .execute();
    }

    public Optional<Account> account(String id) {
        return h.createQuery("SELECT * FROM accounts WHERE id = :id").bind("id", id).map((rs, ctx) -> account(rs)).findFirst();
    }

    public boolean emailInUse(String email) {
        return h.createQuery("SELECT COUNT(*) FROM accounts WHERE email = :email").bind("email", email).mapTo(Long.class).one() > 0;
    }

    /** Accounts ordered by id, {@code max} at a time; the token is opaque to callers. */
    public Page<Account> listAccounts(Optional<String> token, int max) {
        String after = token.map(PageTokens::decode).orElse("");
        List<Account> rows = h.createQuery("SELECT * FROM accounts WHERE id > :after ORDER BY id LIMIT :limit")
                .bind("after", after).bind("limit", max + 1).map((rs, ctx) -> account(rs)).list();
        if (rows.size() > max) {
            List<Account> page = rows.subList(0, max);
            return new Page<>(page, Optional.of(PageTokens.encode(page.getLast().id())));
        }
        return new Page<>(rows, Optional.empty());
    }

    public void insertCreateAccountRequest(CreateAccountRequest r) {
        h.createUpdate("INSERT INTO create_account_requests (id, account_name, email, state, account_id, failure_reason, requested_at, completed_at) "
                        + "VALUES (:id, :name, :email, :state, :account, :reason, :requested, :completed)")
                .bind("id", r.id()).bind("name", r.accountName()).bind("email", r.email()).bind("state", r.state())
                .bind("account", r.accountId().orElse(null)).bind("reason", r.failureReason().orElse(null))
                .bind("requested", r.requestedAt().toEpochMilli())
                .bind("completed", r.completedAt().map(Instant::toEpochMilli).orElse(null))
                .execute();
    }

    public Optional<CreateAccountRequest> createAccountRequest(String id) {
        return h.createQuery("SELECT * FROM create_account_requests WHERE id = :id").bind("id", id)
                .map((rs, ctx) -> new CreateAccountRequest(rs.getString("id"), rs.getString("account_name"), rs.getString("email"),
                        rs.getString("state"), Optional.ofNullable(rs.getString("account_id")),
                        Optional.ofNullable(rs.getString("failure_reason")), Instant.ofEpochMilli(rs.getLong("requested_at")),
                        optionalInstant(rs, "completed_at")))
                .findFirst();
    }

    private static Account account(ResultSet rs) throws SQLException {
        return new Account(rs.getString("id"), rs.getString("arn"), rs.getString("name"), rs.getString("email"),
                rs.getString("status"), rs.getString("joined_method"), Instant.ofEpochMilli(rs.getLong("joined_at")));
    }

    static Optional<Instant> optionalInstant(ResultSet rs, String column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(v));
    }
}
