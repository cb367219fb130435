package dev.citadel.metadata.iam;

import static java.util.Objects.requireNonNull;

import java.time.Instant;

/** An IAM group: a set of users that share the group's policies. */
public record IamGroup(String accountId, String groupName, String groupId, String path, String arn, Instant createdAt) {
    public IamGroup {
        requireNonNull(accountId, "accountId is null");
        requireNonNull(groupName, "groupName is null");
        requireNonNull(groupId, "groupId is null");
        requireNonNull(path, "path is null");
        requireNonNull(arn, "arn is null");
        requireNonNull(createdAt, "createdAt is null");
        if (!IamNames.NAME.matcher(groupName).matches() || !IamNames.PATH.matcher(path).matches()) {
            throw new IllegalArgumentException("group name or path is not valid");
        }
        createdAt = Instant.ofEpochMilli(createdAt.toEpochMilli());
    }
}
