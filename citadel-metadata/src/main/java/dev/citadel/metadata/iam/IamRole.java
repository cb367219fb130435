package dev.citadel.metadata.iam;

import static java.util.Objects.requireNonNull;

import java.time.Instant;

/** An IAM role with its trust policy. */
public record IamRole(String accountId, String roleName, String roleId, String path, String arn, String assumeRolePolicyDocument,
        String description, int maxSessionDuration, Instant createdAt) {
    public IamRole {
        requireNonNull(accountId, "accountId is null");
        requireNonNull(roleName, "roleName is null");
        requireNonNull(roleId, "roleId is null");
        requireNonNull(path, "path is null");
        requireNonNull(arn, "arn is null");
        requireNonNull(assumeRolePolicyDocument, "assumeRolePolicyDocument is null");
        requireNonNull(description, "description is null");
        requireNonNull(createdAt, "createdAt is null");
        if (maxSessionDuration < 3600 || maxSessionDuration > 43200) {
            throw new IllegalArgumentException("max session duration must be 3600 to 43200 seconds");
        }
    }
}
