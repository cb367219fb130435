package dev.citadel.metadata.iam;

import static dev.citadel.metadata.internal.Sql.execute;
import static dev.citadel.metadata.internal.Sql.instant;
import static dev.citadel.metadata.internal.Sql.optionalInstant;
import static java.util.Objects.requireNonNull;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/**
 * Virtual MFA devices: the sealed TOTP seed, the user a device is assigned to, and the last time
 * step accepted. {@link #acceptStep} is the replay guard: it moves the step forward only, in one
 * conditional update, so two requests with the same code cannot both succeed.
 */
public final class MfaDeviceRepository {
    public static final String DEVICE_NAME = "iam_mfa_devices_account_id_name_key_key";

    /** @param userName the assigned user's name as created, when the device is enabled */
    public record MfaDevice(String serialNumber, String accountId, byte[] seedSealed, Optional<String> userName, Optional<Instant> enabledAt,
            long lastStep, Instant createdAt) {
    }

    private final Handle h;

    public MfaDeviceRepository(Handle handle) {
        this.h = requireNonNull(handle, "handle is null");
    }

    /** @param nameKey the device's path and name in lower case */
    public void insert(String serialNumber, String accountId, String nameKey, byte[] seedSealed, Instant at) {
        execute(h.createUpdate("INSERT INTO iam_mfa_devices (serial_number, account_id, name_key, seed_sealed, last_step, created_at) "
                        + "VALUES (:serial, :accountId, :nameKey, :seed, 0, :at)")
                .bind("serial", serialNumber)
                .bind("accountId", accountId)
                .bind("nameKey", nameKey)
                .bind("seed", seedSealed)
                .bind("at", at.toEpochMilli()));
    }

    public Optional<MfaDevice> device(String accountId, String serialNumber) {
        return h.createQuery("SELECT d.*, u.user_name FROM iam_mfa_devices d LEFT JOIN iam_users u ON u.account_id = d.account_id "
                        + "AND u.name_key = d.user_name_key WHERE d.account_id = :accountId AND d.serial_number = :serial")
                .bind("accountId", accountId)
                .bind("serial", serialNumber)
                .map((rs, ctx) -> device(rs))
                .findOne();
    }

    /** The account's devices; with {@code assigned} only those enabled for a user, without only the unassigned ones; both when empty. */
    public List<MfaDevice> devices(String accountId, Optional<Boolean> assigned) {
        String filter = assigned.map(a -> a ? " AND d.user_name_key IS NOT NULL" : " AND d.user_name_key IS NULL").orElse("");
        return h.createQuery("SELECT d.*, u.user_name FROM iam_mfa_devices d LEFT JOIN iam_users u ON u.account_id = d.account_id "
                        + "AND u.name_key = d.user_name_key WHERE d.account_id = :accountId" + filter + " ORDER BY d.serial_number")
                .bind("accountId", accountId)
                .map((rs, ctx) -> device(rs))
                .list();
    }

    public List<MfaDevice> devicesOfUser(String accountId, String userName) {
        return h.createQuery("SELECT d.*, u.user_name FROM iam_mfa_devices d JOIN iam_users u ON u.account_id = d.account_id "
                        + "AND u.name_key = d.user_name_key WHERE d.account_id = :accountId AND d.user_name_key = :user ORDER BY d.serial_number")
                .bind("accountId", accountId)
                .bind("user", IamNames.key(userName))
                .map((rs, ctx) -> device(rs))
                .list();
    }

    /** Assigns an unassigned device to a user, with the step of the second code accepted; returns whether it was unassigned. */
    public boolean enable(String accountId, String serialNumber, String userName, long step, Instant at) {
        return execute(h.createUpdate("UPDATE iam_mfa_devices SET user_name_key = :user, enabled_at = :at, last_step = :step "
                        + "WHERE account_id = :accountId AND serial_number = :serial AND user_name_key IS NULL")
                .bind("user", IamNames.key(userName))
                .bind("at", at.toEpochMilli())
                .bind("step", step)
                .bind("accountId", accountId)
                .bind("serial", serialNumber)) == 1;
    }

    /** Records a code's time step as used; false when that step, or a later one, was used already. */
    public boolean acceptStep(String serialNumber, long step) {
        return execute(h.createUpdate("UPDATE iam_mfa_devices SET last_step = :step WHERE serial_number = :serial AND last_step < :step")
                .bind("step", step)
                .bind("serial", serialNumber)) == 1;
    }

    public boolean deactivate(String accountId, String serialNumber, String userName) {
        return execute(h.createUpdate("UPDATE iam_mfa_devices SET user_name_key = NULL, enabled_at = NULL WHERE account_id = :accountId "
                        + "AND serial_number = :serial AND user_name_key = :user")
                .bind("accountId", accountId)
                .bind("serial", serialNumber)
                .bind("user", IamNames.key(userName))) == 1;
    }

    /** Deletes an unassigned device; returns whether one was deleted. */
    public boolean delete(String accountId, String serialNumber) {
        return execute(h.createUpdate("DELETE FROM iam_mfa_devices WHERE account_id = :accountId AND serial_number = :serial "
                        + "AND user_name_key IS NULL")
                .bind("accountId", accountId)
                .bind("serial", serialNumber)) == 1;
    }

    private static MfaDevice device(ResultSet rs) throws SQLException {
        return new MfaDevice(rs.getString("serial_number"), rs.getString("account_id"), rs.getBytes("seed_sealed"),
                Optional.ofNullable(rs.getString("user_name")), optionalInstant(rs, "enabled_at"), rs.getLong("last_step"),
                instant(rs, "created_at"));
    }
}
