package dev.citadel.metadata.iam;

import static java.util.Objects.requireNonNull;

import dev.citadel.core.AccountId;
import dev.citadel.metadata.internal.Checks;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Optional;
import java.util.Set;

/**
 * An IAM user's access key as stored: the secret only sealed (by the caller's
 * {@code SecretSealer}; this module never sees it in plaintext). The user is named by its
 * lower-case name key. {@link #toString()} leaves the sealed bytes out; the array is copied in
 * and out.
 */
public record AccessKey(String accessKeyId, String accountId, String userNameKey, byte[] secretSealed, String status,
        Instant createdAt, Optional<Instant> lastUsedAt) {
    public static final Set<String> STATUSES = Set.of("Active", "Inactive");
    static final int MAX_SEALED_LENGTH = 4096;

    public AccessKey {
        requireNonNull(accessKeyId, "accessKeyId is null");
        requireNonNull(accountId, "accountId is null");
        requireNonNull(userNameKey, "userNameKey is null");
        requireNonNull(secretSealed, "secretSealed is null");
        requireNonNull(status, "status is null");
        requireNonNull(createdAt, "createdAt is null");
        requireNonNull(lastUsedAt, "lastUsedAt is null");
        IamNames.uniqueId("access key id", accessKeyId, "AKIA");
        Checks.check(AccountId.isValid(accountId), "account id must be 12 digits");
        Checks.matching("user name key", userNameKey, IamNames.NAME);
        Checks.check(userNameKey.equals(IamNames.key(userNameKey)), "user name key must be lower case");
        Checks.check(secretSealed.length > 0 && secretSealed.length <= MAX_SEALED_LENGTH,
                "sealed secret must be 1 to " + MAX_SEALED_LENGTH + " bytes");
        Checks.oneOf("access key status", status, STATUSES);
        secretSealed = secretSealed.clone();
        createdAt = createdAt.truncatedTo(ChronoUnit.MILLIS);
        lastUsedAt = lastUsedAt.map(t -> t.truncatedTo(ChronoUnit.MILLIS));
    }

    /** A key that has not been used yet. */
    public AccessKey(String accessKeyId, String accountId, String userNameKey, byte[] secretSealed, String status, Instant createdAt) {
        this(accessKeyId, accountId, userNameKey, secretSealed, status, createdAt, Optional.empty());
    }

    @Override
    public byte[] secretSealed() {
        return secretSealed.clone();
    }

    public boolean active() {
        return status.equals("Active");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AccessKey k && k.accessKeyId.equals(accessKeyId) && k.accountId.equals(accountId)
                && k.userNameKey.equals(userNameKey) && Arrays.equals(k.secretSealed, secretSealed) && k.status.equals(status)
                && k.createdAt.equals(createdAt) && k.lastUsedAt.equals(lastUsedAt);
    }

    @Override
    public int hashCode() {
        return accessKeyId.hashCode();
    }

    @Override
    public String toString() {
        return "AccessKey[accessKeyId=" + accessKeyId + ", accountId=" + accountId + ", userNameKey=" + userNameKey + ", status=" + status
                + ", createdAt=" + createdAt + ", lastUsedAt=" + lastUsedAt.map(Instant::toString).orElse("never") + "]";
    }
}
