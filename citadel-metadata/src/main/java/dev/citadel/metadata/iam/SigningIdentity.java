package dev.citadel.metadata.iam;

import static java.util.Objects.requireNonNull;

/** What authentication needs about an access key, read in one indexed query: the key and its user. */
public record SigningIdentity(AccessKey key, IamUser user) {
    public SigningIdentity {
        requireNonNull(key, "key is null");
        requireNonNull(user, "user is null");
    }
}
