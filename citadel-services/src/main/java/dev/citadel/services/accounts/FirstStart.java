package dev.citadel.services.accounts;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * What the first start creates: the organization, its management account and an administrator
 * with an access key. Later starts find the organization and create nothing.
 */
public final class FirstStart {
    /** The result of a start: whether this was the first, the management account, and the new key on a first start. */
    public record Outcome(boolean firstStart, String managementAccount, Optional<AccountDirectory.NewKey> newAdminKey) {
        public Outcome {
            requireNonNull(managementAccount, "managementAccount is null");
            requireNonNull(newAdminKey, "newAdminKey is null");
        }
    }

    private final AccountDirectory directory;

    public FirstStart(AccountDirectory directory) {
        this.directory = directory;
    }

    public Outcome ensure(String managementEmail, String adminUser) {
        var existing = directory.organization();
        if (existing.isPresent()) {
            return new Outcome(false, existing.get().managementAccountId(), Optional.empty());
        }
        AccountDirectory.NewKey key = directory.createOrganization(managementEmail, adminUser);
        return new Outcome(true, directory.organization().orElseThrow().managementAccountId(), Optional.of(key));
    }
}
