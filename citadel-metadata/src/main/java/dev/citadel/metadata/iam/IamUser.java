package dev.citadel.metadata.iam;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Locale;

/** An IAM user. Names are unique per account without regard to case, as in IAM. */
public record IamUser(String accountId, String userName, String userId, String path, String arn, Instant createdAt) {
    public IamUser {
        requireNonNull(accountId, "accountId is null");
        requireNonNull(userName, "userName is null");
        requireNonNull(userId, "userId is null");
        requireNonNull(path, "path is null");
        requireNonNull(arn, "arn is null");
        requireNonNull(createdAt, "createdAt is null");
    }

    public String nameKey() {
        return nameKey(userName);
    }

    public static String nameKey(String name) {
        return name.toLowerCase(Locale.ROOT);
    }
}
