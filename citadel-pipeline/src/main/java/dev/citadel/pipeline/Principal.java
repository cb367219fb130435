package dev.citadel.pipeline;

import static java.util.Objects.requireNonNull;

import dev.citadel.core.AccountId;

/**
 * Who made an authenticated request, as CloudTrail's {@code userIdentity} and STS's
 * {@code GetCallerIdentity} describe it.
 *
 * @param type         {@code IAMUser}, {@code AssumedRole} or {@code Root}
 * @param principalId  the unique id ({@code AIDA…}, or {@code AROA…:session} for a role session)
 * @param arn          the caller's ARN
 * @param name         the user name or role session name
 */
public record Principal(String type, AccountId account, String principalId, String arn, String name, String accessKeyId) {
    public Principal {
        requireNonNull(type, "type is null");
        requireNonNull(account, "account is null");
        requireNonNull(principalId, "principalId is null");
        requireNonNull(arn, "arn is null");
        requireNonNull(name, "name is null");
        requireNonNull(accessKeyId, "accessKeyId is null");
    }
}
