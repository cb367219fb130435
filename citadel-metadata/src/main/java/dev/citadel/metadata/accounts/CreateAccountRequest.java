package dev.citadel.metadata.accounts;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Optional;

/** The status of one CreateAccount call: IN_PROGRESS, SUCCEEDED, or FAILED with AWS's failure reason. */
public record CreateAccountRequest(String id, String accountName, String email, String state, Optional<String> accountId,
        Optional<String> failureReason, Instant requestedAt, Optional<Instant> completedAt) {
    public CreateAccountRequest {
        requireNonNull(id, "id is null");
        requireNonNull(accountName, "accountName is null");
        requireNonNull(email, "email is null");
        requireNonNull(state, "state is null");
        requireNonNull(accountId, "accountId is null");
        requireNonNull(failureReason, "failureReason is null");
        requireNonNull(requestedAt, "requestedAt is null");
        requireNonNull(completedAt, "completedAt is null");
        if (!state.equals("IN_PROGRESS") && !state.equals("SUCCEEDED") && !state.equals("FAILED")) {
            throw new IllegalArgumentException("unknown state " + state);
        }
    }
}
