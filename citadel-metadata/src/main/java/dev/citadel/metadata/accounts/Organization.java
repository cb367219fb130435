package dev.citadel.metadata.accounts;

import static java.util.Objects.requireNonNull;

import dev.citadel.core.AccountId;
import dev.citadel.metadata.internal.Checks;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The organization: one per Citadel installation (the table holds at most one row), owned by the
 * management account. {@code createdAt} is kept to the millisecond, as stored.
 */
public record Organization(String id, String arn, String featureSet, String managementAccountId, String managementAccountEmail,
        Instant createdAt) {
    private static final Pattern ID = Pattern.compile("o-[a-z0-9]{10,32}");

    public Organization {
        requireNonNull(id, "id is null");
        requireNonNull(arn, "arn is null");
        requireNonNull(featureSet, "featureSet is null");
        requireNonNull(managementAccountId, "managementAccountId is null");
        requireNonNull(managementAccountEmail, "managementAccountEmail is null");
        requireNonNull(createdAt, "createdAt is null");
        Checks.matching("organization id", id, ID);
        Checks.check(arn.startsWith("arn:") && arn.endsWith(":organization/" + id), "organization arn must end with :organization/" + id);
        Checks.oneOf("feature set", featureSet, Set.of("ALL", "CONSOLIDATED_BILLING"));
        Checks.check(AccountId.isValid(managementAccountId), "management account id must be 12 digits");
        Checks.email("management account e-mail", managementAccountEmail);
        createdAt = createdAt.truncatedTo(ChronoUnit.MILLIS);
    }
}
