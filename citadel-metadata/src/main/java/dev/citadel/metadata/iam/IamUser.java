package dev.citadel.metadata.iam;

import static java.util.Objects.requireNonNull;

import dev.citadel.core.AccountId;
import dev.citadel.metadata.internal.Checks;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * An IAM user. Names are unique per account without regard to case, as in IAM; the user keeps
 * the case it was created with. The ARN is {@code arn:aws:iam::<account>:user<path><name>}.
 */
public record IamUser(String accountId, String userName, String userId, String path, String arn, Instant createdAt) {
    public IamUser {
        requireNonNull(accountId, "accountId is null");
        requireNonNull(userName, "userName is null");
        requireNonNull(userId, "userId is null");
        requireNonNull(path, "path is null");
        requireNonNull(arn, "arn is null");
        requireNonNull(createdAt, "createdAt is null");
        Checks.check(AccountId.isValid(accountId), "account id must be 12 digits");
        Checks.matching("user name", userName, IamNames.NAME);
        IamNames.uniqueId("user id", userId, "AIDA");
        Checks.matching("path", path, IamNames.PATH);
        Checks.check(arn.startsWith("arn:") && arn.endsWith(":" + accountId + ":user" + path + userName),
                "user arn must end with :" + accountId + ":user" + path + userName);
        createdAt = createdAt.truncatedTo(ChronoUnit.MILLIS);
    }

    /** The name in lower case: the key IAM user names are unique by. */
    public String nameKey() {
        return IamNames.key(userName);
    }

    /** The lower-case key of a user, role or group name. */
    public static String nameKey(String name) {
        return IamNames.key(name);
    }
}
