package dev.citadel.metadata.iam;

import static java.util.Objects.requireNonNull;

import java.time.Instant;

/**
 * An access key as stored: the secret only sealed. {@link #toString()} leaves the sealed bytes out.
 */
public record AccessKey(String accessKeyId, String accountId, String userNameKey, byte[] secretSealed, String status,
        Instant createdAt) {
    public AccessKey {
        requireNonNull(accessKeyId, "accessKeyId is null");
        requireNonNull(accountId, "accountId is null");
        requireNonNull(userNameKey, "userNameKey is null");
        requireNonNull(secretSealed, "secretSealed is null");
        requireNonNull(status, "status is null");
        requireNonNull(createdAt, "createdAt is null");
        if (!status.equals("Active") && !status.equals("Inactive")) {
            throw new IllegalArgumentException("status must be Active or Inactive");
        }
        secretSealed = secretSealed.clone();
    }

    @Override
    public byte[] secretSealed() {
        return secretSealed.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AccessKey k && k.accessKeyId.equals(accessKeyId) && k.accountId.equals(accountId)
                && k.userNameKey.equals(userNameKey) && java.util.Arrays.equals(k.secretSealed, secretSealed)
                && k.status.equals(status) && k.createdAt.equals(createdAt);
    }

    @Override
    public int hashCode() {
        return accessKeyId.hashCode();
    }

    @Override
    public String toString() {
        return "AccessKey[accessKeyId=" + accessKeyId + ", accountId=" + accountId + ", user=" + userNameKey + ", status=" + status + "]";
    }
}
