package dev.citadel.metadata.accounts;

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
import org.jdbi.v3.core.statement.Query;

/**
 * The organization, its accounts and the CreateAccount requests. Works on the caller's
 * {@link Handle}, so several repositories share one transaction. Inserts of a row whose key or
 * unique value exists throw {@link DuplicateKeyException} naming one of the constraints below.
 */
public final class AccountRepository {
    /** A second organization: there is at most one. */
    public static final String ORGANIZATION_EXISTS = "organizations_singleton_key";
    public static final String ORGANIZATION_ID = "organizations_pkey";
    public static final String ACCOUNT_ID = "accounts_pkey";
    /** Another account has this e-mail address: AWS's {@code EMAIL_ALREADY_EXISTS}. */
    public static final String ACCOUNT_EMAIL = "accounts_email_key";
    public static final String CREATE_ACCOUNT_REQUEST_ID = "create_account_requests_pkey";

    private static final String ACCOUNT_COLUMNS = "id, arn, name, email, status, joined_method, joined_at";
    private static final String REQUEST_COLUMNS = "id, account_name, email, state, account_id, failure_reason, requested_at, completed_at";

    private final Handle h;

    public AccountRepository(Handle handle) {
        this.h = requireNonNull(handle, "handle is null");
    }

    public void insertOrganization(Organization o) {
        execute(h.createUpdate("INSERT INTO organizations (id, arn, feature_set, management_account_id, management_account_email, created_at) "
                        + "VALUES (:id, :arn, :featureSet, :managementAccountId, :managementAccountEmail, :createdAt)")
                .bind("id", o.id())
                .bind("arn", o.arn())
                .bind("featureSet", o.featureSet())
                .bind("managementAccountId", o.managementAccountId())
                .bind("managementAccountEmail", o.managementAccountEmail())
                .bind("createdAt", millis(o.createdAt())));
    }

    public Optional<Organization> organization() {
        return h.createQuery("SELECT id, arn, feature_set, management_account_id, management_account_email, created_at FROM organizations")
                .map((rs, ctx) -> new Organization(rs.getString("id"), rs.getString("arn"), rs.getString("feature_set"),
                        rs.getString("management_account_id"), rs.getString("management_account_email"), instant(rs, "created_at")))
                .findOne();
    }

    /** Deletes the organization; its accounts stay. Returns whether it existed. */
    public boolean deleteOrganization(String id) {
        return execute(h.createUpdate("DELETE FROM organizations WHERE id = :id").bind("id", id)) == 1;
    }

    public void insertAccount(Account a) {
        execute(h.createUpdate("INSERT INTO accounts (" + ACCOUNT_COLUMNS + ") "
                        + "VALUES (:id, :arn, :name, :email, :status, :joinedMethod, :joinedAt)")
                .bind("id", a.id())
                .bind("arn", a.arn())
                .bind("name", a.name())
                .bind("email", a.email())
                .bind("status", a.status())
                .bind("joinedMethod", a.joinedMethod())
                .bind("joinedAt", millis(a.joinedAt())));
    }

    public Optional<Account> account(String id) {
        return h.createQuery("SELECT " + ACCOUNT_COLUMNS + " FROM accounts WHERE id = :id")
                .bind("id", id)
                .map((rs, ctx) -> account(rs))
                .findOne();
    }

    public Optional<Account> accountByEmail(String email) {
        return h.createQuery("SELECT " + ACCOUNT_COLUMNS + " FROM accounts WHERE email = :email")
                .bind("email", email)
                .map((rs, ctx) -> account(rs))
                .findOne();
    }

    public boolean emailInUse(String email) {
        return accountByEmail(email).isPresent();
    }

    /** Accounts in id order, {@code maxItems} (1 to 1000) at a time. */
    public Page<Account> listAccounts(Optional<String> token, int maxItems) {
        String after = Pages.after("accounts", token, maxItems);
        List<Account> rows = h.createQuery("SELECT " + ACCOUNT_COLUMNS + " FROM accounts WHERE id > :after ORDER BY id LIMIT :limit")
                .bind("after", after)
                .bind("limit", maxItems + 1)
                .map((rs, ctx) -> account(rs))
                .list();
        return Pages.of("accounts", rows, maxItems, Account::id);
    }

    /** Sets an account's status (ACTIVE, SUSPENDED, PENDING_CLOSURE). Returns whether the account exists. */
    public boolean updateAccountStatus(String id, String status) {
        Checks.oneOf("account status", status, Account.STATUSES);
        return execute(h.createUpdate("UPDATE accounts SET status = :status WHERE id = :id").bind("id", id).bind("status", status)) == 1;
    }

    /** Renames an account. Returns whether the account exists. */
    public boolean updateAccountName(String id, String name) {
        Checks.length("account name", name, 1, 50);
        return execute(h.createUpdate("UPDATE accounts SET name = :name WHERE id = :id").bind("id", id).bind("name", name)) == 1;
    }

    /**
     * Deletes an account. Its IAM identities must be gone first (a foreign key refuses otherwise);
     * the CreateAccount request that made it keeps naming it, as history.
     */
    public boolean deleteAccount(String id) {
        return execute(h.createUpdate("DELETE FROM accounts WHERE id = :id").bind("id", id)) == 1;
    }

    public void insertCreateAccountRequest(CreateAccountRequest r) {
        execute(h.createUpdate("INSERT INTO create_account_requests (" + REQUEST_COLUMNS + ") "
                        + "VALUES (:id, :accountName, :email, :state, :accountId, :failureReason, :requestedAt, :completedAt)")
                .bind("id", r.id())
                .bind("accountName", r.accountName())
                .bind("email", r.email())
                .bind("state", r.state())
                .bind("accountId", r.accountId().orElse(null))
                .bind("failureReason", r.failureReason().orElse(null))
                .bind("requestedAt", millis(r.requestedAt()))
                .bind("completedAt", millis(r.completedAt())));
    }

    public Optional<CreateAccountRequest> createAccountRequest(String id) {
        return h.createQuery("SELECT " + REQUEST_COLUMNS + " FROM create_account_requests WHERE id = :id")
                .bind("id", id)
                .map((rs, ctx) -> createAccountRequest(rs))
                .findOne();
    }

    /**
     * Records the outcome of a request that is still IN_PROGRESS. Returns false, changing nothing,
     * if there is no such request or it is finished already.
     */
    public boolean completeCreateAccountRequest(CreateAccountRequest finished) {
        Checks.check(!finished.state().equals("IN_PROGRESS"), "a completed request is SUCCEEDED or FAILED");
        return execute(h.createUpdate("UPDATE create_account_requests SET state = :state, account_id = :accountId, "
                        + "failure_reason = :failureReason, completed_at = :completedAt WHERE id = :id AND state = 'IN_PROGRESS'")
                .bind("id", finished.id())
                .bind("state", finished.state())
                .bind("accountId", finished.accountId().orElse(null))
                .bind("failureReason", finished.failureReason().orElse(null))
                .bind("completedAt", millis(finished.completedAt()))) == 1;
    }

    /** Requests in id order, only those in {@code states} (all if empty), {@code maxItems} (1 to 1000) at a time. */
    public Page<CreateAccountRequest> listCreateAccountRequests(Set<String> states, Optional<String> token, int maxItems) {
        states.forEach(s -> Checks.oneOf("state", s, CreateAccountRequest.STATES));
        String after = Pages.after("create-account-requests", token, maxItems);
        Query query = h.createQuery("SELECT " + REQUEST_COLUMNS + " FROM create_account_requests WHERE id > :after "
                        + (states.isEmpty() ? "" : "AND state IN (<states>) ") + "ORDER BY id LIMIT :limit")
                .bind("after", after)
                .bind("limit", maxItems + 1);
        if (!states.isEmpty()) {
            query.bindList("states", List.copyOf(states));
        }
        List<CreateAccountRequest> rows = query.map((rs, ctx) -> createAccountRequest(rs)).list();
        return Pages.of("create-account-requests", rows, maxItems, CreateAccountRequest::id);
    }

    private static Account account(ResultSet rs) throws SQLException {
        return new Account(rs.getString("id"), rs.getString("arn"), rs.getString("name"), rs.getString("email"),
                rs.getString("status"), rs.getString("joined_method"), instant(rs, "joined_at"));
    }

    private static CreateAccountRequest createAccountRequest(ResultSet rs) throws SQLException {
        return new CreateAccountRequest(rs.getString("id"), rs.getString("account_name"), rs.getString("email"), rs.getString("state"),
                Optional.ofNullable(rs.getString("account_id")), Optional.ofNullable(rs.getString("failure_reason")),
                instant(rs, "requested_at"), optionalInstant(rs, "completed_at"));
    }
}
