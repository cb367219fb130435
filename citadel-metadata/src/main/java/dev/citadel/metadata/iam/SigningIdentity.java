package dev.citadel.metadata.iam;

import static java.util.Objects.requireNonNull;

/**
 * What authentication needs about an access key, read in one indexed query by
 * {@link IamRepository#findAccessKey}: the key (account, status, sealed secret) and its user
 * (name, unique id, ARN).
 */
public record SigningIdentity(AccessKey key, IamUser user) {
    public SigningIdentity {
        requireNonNull(key, "key is null");
        requireNonNull(user, "user is null");
    }
}
