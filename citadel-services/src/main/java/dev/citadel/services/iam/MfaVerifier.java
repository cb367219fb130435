package dev.citadel.services.iam;

import dev.citadel.core.AwsException;
import dev.citadel.core.SecretBytes;
import dev.citadel.core.SecretSealer;
import dev.citadel.metadata.iam.MfaDeviceRepository;
import dev.citadel.services.accounts.AccountDirectory;
import java.util.OptionalLong;
import java.util.regex.Pattern;

/**
 * Checks an MFA code from a user's virtual device, as STS does when credentials are requested
 * with {@code SerialNumber} and {@code TokenCode}: the device must be assigned to that user, the
 * code must be the device's for the current 30-second step or one either side, and no code of
 * that step or an earlier one may have been accepted before (each code works once).
 */
public final class MfaVerifier {
    public static final Pattern CODE = Pattern.compile("[\\d]{6}");
    private final AccountDirectory directory;
    private final SecretSealer sealer;

    public MfaVerifier(AccountDirectory directory, SecretSealer sealer) {
        this.directory = directory;
        this.sealer = sealer;
    }

    /** The context a virtual MFA device's seed is sealed under. */
    public static String sealContext(String serialNumber) {
        return "iam/mfa-seed/" + serialNumber;
    }

    SecretBytes seed(MfaDeviceRepository.MfaDevice device) {
        return sealer.unseal(device.seedSealed(), sealContext(device.serialNumber()));
    }

    byte[] seal(SecretBytes seed, String serialNumber) {
        return sealer.seal(seed, sealContext(serialNumber));
    }

    /** Accepts the code once or throws STS's AccessDenied. */
    public void verify(String accountId, String userName, String serialNumber, String code) {
        AwsException refused = new AwsException("AccessDenied", 403, "MultiFactorAuthentication failed with invalid MFA one time pass code. ");
        if (!CODE.matcher(code).matches()) {
            throw new AwsException("ValidationError", 400, "1 validation error detected: Value at 'tokenCode' failed to satisfy constraint: "
                    + "Member must satisfy regular expression pattern: [\\d]*");
        }
        var device = directory.store().read(h -> new MfaDeviceRepository(h).device(accountId, serialNumber))
                .filter(d -> d.userName().map(u -> u.equalsIgnoreCase(userName)).orElse(false))
                .orElseThrow(() -> new AwsException("AccessDenied", 403,
                        "MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA serial number is valid and "
                        + "associated with this user."));
        OptionalLong step = Totp.match(seed(device).revealBytes(), code, directory.now());
        if (step.isEmpty()) {
            throw refused;
        }
        boolean fresh = directory.store().inTransaction(h -> new MfaDeviceRepository(h).acceptStep(serialNumber, step.getAsLong()));
        if (!fresh) {
            throw refused;
        }
    }
}
