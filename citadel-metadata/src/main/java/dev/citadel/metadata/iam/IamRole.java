package dev.citadel.metadata.iam;

import static java.util.Objects.requireNonNull;

import dev.citadel.core.AccountId;
import dev.citadel.metadata.internal.Checks;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * An IAM role with its trust policy (stored as the caller gave it; its grammar is checked by the
 * policy module). Names are unique per account without regard to case. The ARN is
 * {@code arn:aws:iam::<account>:role<path><name>}.
 */
public record IamRole(String accountId, String roleName, String roleId, String path, String arn, String assumeRolePolicyDocument,
        String description, int maxSessionDuration, Instant createdAt) {
    public static final int MIN_SESSION_SECONDS = 3600;
    public static final int MAX_SESSION_SECONDS = 43200;
    static final int MAX_POLICY_LENGTH = 131_072;

    public IamRole {
        requireNonNull(accountId, "accountId is null");
        requireNonNull(roleName, "roleName is null");
        requireNonNull(roleId, "roleId is null");
        requireNonNull(path, "path is null");
        requireNonNull(arn, "arn is null");
        requireNonNull(assumeRolePolicyDocument, "assumeRolePolicyDocument is null");
        requireNonNull(description, "description is null");
        requireNonNull(createdAt, "createdAt is null");
        Checks.check(AccountId.isValid(accountId), "account id must be 12 digits");
        Checks.matching("role name", roleName, IamNames.NAME);
        IamNames.uniqueId("role id", roleId, "AROA");
        Checks.matching("path", path, IamNames.PATH);
        Checks.check(arn.startsWith("arn:") && arn.endsWith(":" + accountId + ":role" + path + roleName),
                "role arn must end with :" + accountId + ":role" + path + roleName);
        Checks.length("assume role policy document", assumeRolePolicyDocument, 1, MAX_POLICY_LENGTH);
        Checks.length("description", description, 0, 1000);
        checkSessionDuration(maxSessionDuration);
        createdAt = createdAt.truncatedTo(ChronoUnit.MILLIS);
    }

    public String nameKey() {
        return IamNames.key(roleName);
    }

    static void checkSessionDuration(int seconds) {
        Checks.check(seconds >= MIN_SESSION_SECONDS && seconds <= MAX_SESSION_SECONDS,
                "max session duration must be " + MIN_SESSION_SECONDS + " to " + MAX_SESSION_SECONDS + " seconds, got " + seconds);
    }
}
