package dev.citadel.metadata.accounts;

import static java.util.Objects.requireNonNull;

import dev.citadel.core.AccountId;
import dev.citadel.metadata.internal.Checks;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A CreateAccount request and its outcome, as DescribeCreateAccountStatus reports it. The fields
 * are consistent with the state: IN_PROGRESS has no account, reason nor completion time;
 * SUCCEEDED has an account and a completion time; FAILED has one of AWS's failure reasons and a
 * completion time.
 */
public record CreateAccountRequest(String id, String accountName, String email, String state, Optional<String> accountId,
        Optional<String> failureReason, Instant requestedAt, Optional<Instant> completedAt) {
    public static final Set<String> STATES = Set.of("IN_PROGRESS", "SUCCEEDED", "FAILED");
    /** AWS's {@code CreateAccountFailureReason} values. */
    public static final Set<String> FAILURE_REASONS = Set.of("ACCOUNT_LIMIT_EXCEEDED", "EMAIL_ALREADY_EXISTS", "INVALID_ADDRESS",
            "INVALID_EMAIL", "CONCURRENT_ACCOUNT_MODIFICATION", "INTERNAL_FAILURE", "GOVCLOUD_ACCOUNT_ALREADY_EXISTS",
            "MISSING_BUSINESS_VALIDATION", "FAILED_BUSINESS_VALIDATION", "PENDING_BUSINESS_VALIDATION",
            "INVALID_IDENTITY_FOR_BUSINESS_VALIDATION", "UNKNOWN_BUSINESS_VALIDATION", "MISSING_PAYMENT_INSTRUMENT",
            "INVALID_PAYMENT_INSTRUMENT", "UPDATE_EXISTING_RESOURCE_POLICY_WITH_TAGS_NOT_SUPPORTED");
    private static final Pattern ID = Pattern.compile("car-[a-z0-9]{32}");

    public CreateAccountRequest {
        requireNonNull(id, "id is null");
        requireNonNull(accountName, "accountName is null");
        requireNonNull(email, "email is null");
        requireNonNull(state, "state is null");
        requireNonNull(accountId, "accountId is null");
        requireNonNull(failureReason, "failureReason is null");
        requireNonNull(requestedAt, "requestedAt is null");
        requireNonNull(completedAt, "completedAt is null");
        Checks.matching("create account request id", id, ID);
        Checks.length("account name", accountName, 1, 50);
        Checks.length("account e-mail", email, 1, 64);
        Checks.oneOf("state", state, STATES);
        accountId.ifPresent(a -> Checks.check(AccountId.isValid(a), "account id must be 12 digits"));
        failureReason.ifPresent(r -> Checks.oneOf("failure reason", r, FAILURE_REASONS));
        switch (state) {
            case "IN_PROGRESS" -> Checks.check(accountId.isEmpty() && failureReason.isEmpty() && completedAt.isEmpty(),
                    "an IN_PROGRESS request has no account, failure reason nor completion time");
            case "SUCCEEDED" -> Checks.check(accountId.isPresent() && failureReason.isEmpty() && completedAt.isPresent(),
                    "a SUCCEEDED request has an account and a completion time and no failure reason");
            default -> Checks.check(failureReason.isPresent() && completedAt.isPresent(),
                    "a FAILED request has a failure reason and a completion time");
        }
        requestedAt = requestedAt.truncatedTo(ChronoUnit.MILLIS);
        completedAt = completedAt.map(t -> t.truncatedTo(ChronoUnit.MILLIS));
    }

    /** This request, finished as SUCCEEDED with {@code account} at {@code at}. */
    public CreateAccountRequest succeeded(String account, Instant at) {
        return new CreateAccountRequest(id, accountName, email, "SUCCEEDED", Optional.of(account), Optional.empty(), requestedAt,
                Optional.of(at));
    }

    /** This request, finished as FAILED for {@code reason} at {@code at}. */
    public CreateAccountRequest failed(String reason, Instant at) {
        return new CreateAccountRequest(id, accountName, email, "FAILED", Optional.empty(), Optional.of(reason), requestedAt,
                Optional.of(at));
    }
}
