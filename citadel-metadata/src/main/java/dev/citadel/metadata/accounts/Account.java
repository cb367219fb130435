package dev.citadel.metadata.accounts;

import static java.util.Objects.requireNonNull;

import dev.citadel.core.AccountId;
import java.time.Instant;

/** An account of the organization: the tenant boundary. */
public record Account(String id, String arn, String name, String email, String status, String joinedMethod, Instant joinedAt) {
    public Account {
        requireNonNull(id, "id is null");
        requireNonNull(arn, "arn is null");
        requireNonNull(name, "name is null");
        requireNonNull(email, "email is null");
        requireNonNull(status, "status is null");
        requireNonNull(joinedMethod, "joinedMethod is null");
        requireNonNull(joinedAt, "joinedAt is null");
        if (!AccountId.isValid(id)) {
            throw new IllegalArgumentException("account id must be 12 digits");
        }
    }
}
