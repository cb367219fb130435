package dev.citadel.metadata.accounts;

import static java.util.Objects.requireNonNull;

import java.time.Instant;

/** The organization: one per Citadel installation, owned by the management account. */
public record Organization(String id, String arn, String featureSet, String managementAccountId, String managementAccountEmail,
        Instant createdAt) {
    public Organization {
        requireNonNull(id, "id is null");
        requireNonNull(arn, "arn is null");
        requireNonNull(featureSet, "featureSet is null");
        requireNonNull(managementAccountId, "managementAccountId is null");
        requireNonNull(managementAccountEmail, "managementAccountEmail is null");
        requireNonNull(createdAt, "createdAt is null");
        if (!id.matches("o-[a-z0-9]{10,32}")) {
            throw new IllegalArgumentException("organization id must look like o-xxxxxxxxxx");
        }
    }
}
