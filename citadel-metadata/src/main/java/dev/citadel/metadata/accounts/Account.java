package dev.citadel.metadata.accounts;

import static java.util.Objects.requireNonNull;

import dev.citadel.core.AccountId;
import dev.citadel.metadata.internal.Checks;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Set;

/**
 * An account of the organization: the tenant boundary. {@code status} and {@code joinedMethod}
 * hold AWS's values; the ARN is {@code arn:aws:organizations::<management>:account/<org-id>/<id>}.
 */
public record Account(String id, String arn, String name, String email, String status, String joinedMethod, Instant joinedAt) {
    public static final Set<String> STATUSES = Set.of("ACTIVE", "SUSPENDED", "PENDING_CLOSURE");
    public static final Set<String> JOINED_METHODS = Set.of("INVITED", "CREATED");

    public Account {
        requireNonNull(id, "id is null");
        requireNonNull(arn, "arn is null");
        requireNonNull(name, "name is null");
        requireNonNull(email, "email is null");
        requireNonNull(status, "status is null");
        requireNonNull(joinedMethod, "joinedMethod is null");
        requireNonNull(joinedAt, "joinedAt is null");
        Checks.check(AccountId.isValid(id), "account id must be 12 digits");
        Checks.check(arn.startsWith("arn:") && arn.contains(":account/") && arn.endsWith("/" + id), "account arn must end with /" + id);
        Checks.length("account name", name, 1, 50);
        Checks.email("account e-mail", email);
        Checks.oneOf("account status", status, STATUSES);
        Checks.oneOf("joined method", joinedMethod, JOINED_METHODS);
        joinedAt = joinedAt.truncatedTo(ChronoUnit.MILLIS);
    }
}
