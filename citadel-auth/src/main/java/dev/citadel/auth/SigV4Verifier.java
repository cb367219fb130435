package dev.citadel.auth;

import static dev.citadel.auth.AuthException.Kind.INVALID_SESSION_TOKEN;
import static dev.citadel.auth.AuthException.Kind.PRESIGNED_EXPIRED;
import static dev.citadel.auth.AuthException.Kind.PRESIGNED_NOT_YET_VALID;
import static dev.citadel.auth.AuthException.Kind.REQUEST_TIME_TOO_SKEWED;
import static dev.citadel.auth.AuthException.Kind.SIGNATURE_MISMATCH;

import dev.citadel.core.SecretBytes;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Verifies a parsed SigV4 signature against the secret of its access key: the time window
 * ({@code maxSkew} for header signatures; not before {@code X-Amz-Date - maxSkew} and not after
 * {@code X-Amz-Date + X-Amz-Expires} for presigned URLs), the session token, then the signature
 * over the canonical request, compared in constant time.
 */
public final class SigV4Verifier {
    private final Clock clock;
    private final Duration maxSkew;
    private final SigningKeyCache keys = new SigningKeyCache();

    public SigV4Verifier(Clock clock, Duration maxSkew) {
        this.clock = clock;
        this.maxSkew = maxSkew;
    }

    /**
     * @param payloadHash   the hex SHA-256 of the body, or the literal of {@code x-amz-content-sha256}
     *                      ({@code UNSIGNED-PAYLOAD}, {@code STREAMING-…}) where the service allows it
     * @param s3Path        true for S3, whose paths are signed exactly as sent
     * @param sessionToken  the token the access key requires, if it is temporary
     */
    public VerifiedSignature verify(HttpRequestView request, SigV4Authorization auth, SecretBytes secret,
            Optional<SecretBytes> sessionToken, String payloadHash, boolean s3Path) {
        return verify(request, auth, secret, sessionToken, auth.presigned() && s3Path ? SigV4.UNSIGNED_PAYLOAD : payloadHash,
                !s3Path, !s3Path);
    }

    /**
     * The same with the path rules explicit: {@code normalizePath} removes dot segments and
     * duplicate slashes, {@code encodePath} percent-encodes the path once more. Production code
     * uses the S3 switch above; the SigV4 test suite exercises each rule on its own.
     */
    public VerifiedSignature verify(HttpRequestView request, SigV4Authorization auth, SecretBytes secret,
            Optional<SecretBytes> sessionToken, String payloadHash, boolean normalizePath, boolean encodePath) {
        checkTime(auth);
        checkSessionToken(auth, sessionToken);
        String canonical = CanonicalRequest.build(request, auth.signedHeaders(), payloadHash, normalizePath, encodePath);
        byte[] signingKey = keys.signingKey(auth.scope(), secret);
        if (matches(signingKey, auth, canonical)) {
            return new VerifiedSignature(auth, signingKey);
        }
        // Some clients append the session token to a presigned URL after signing it; the token is
        // still checked against the credential above, so leaving it out of the signature only
        // accepts what those clients send.
        if (auth.presigned() && auth.securityToken().isPresent() && matches(signingKey, auth,
                CanonicalRequest.build(request, auth.signedHeaders(), payloadHash, normalizePath, encodePath, true))) {
            return new VerifiedSignature(auth, signingKey);
        }
        throw new AuthException(SIGNATURE_MISMATCH, "The request signature we calculated does not match the signature you provided.");
    }

    private static boolean matches(byte[] signingKey, SigV4Authorization auth, String canonical) {
        String expected = SigV4.signatureHex(signingKey, SigV4.stringToSign(auth.amzDate(), auth.scope(), canonical));
        return SigV4.sameSignature(expected, auth.signature());
    }

    private void checkTime(SigV4Authorization auth) {
        Instant now = clock.instant();
        Instant signed = auth.signedAt();
        if (auth.presigned()) {
            if (signed.minus(maxSkew).isAfter(now)) {
                throw new AuthException(PRESIGNED_NOT_YET_VALID, "Request is not valid yet");
            }
            if (now.isAfter(signed.plusSeconds(auth.expiresSeconds()))) {
                throw new AuthException(PRESIGNED_EXPIRED, "Request has expired");
            }
            return;
        }
        if (signed.isBefore(now.minus(maxSkew))) {
            throw new AuthException(REQUEST_TIME_TOO_SKEWED, "Signature expired: " + auth.amzDate() + " is now earlier than "
                    + SigV4.amzDate(now.minus(maxSkew)) + " (" + SigV4.amzDate(now) + " - " + maxSkew.toMinutes() + " min.)");
        }
        if (signed.isAfter(now.plus(maxSkew))) {
            throw new AuthException(REQUEST_TIME_TOO_SKEWED, "Signature not yet current: " + auth.amzDate() + " is still later than "
                    + SigV4.amzDate(now.plus(maxSkew)) + " (" + SigV4.amzDate(now) + " + " + maxSkew.toMinutes() + " min.)");
        }
    }

    private static void checkSessionToken(SigV4Authorization auth, Optional<SecretBytes> required) {
        if (required.isEmpty()) {
            if (auth.securityToken().isPresent()) {
                throw new AuthException(INVALID_SESSION_TOKEN, "The security token included in the request is invalid.");
            }
            return;
        }
        byte[] given = auth.securityToken().orElse("").getBytes(StandardCharsets.UTF_8);
        if (!MessageDigest.isEqual(required.get().revealBytes(), given)) {
            throw new AuthException(INVALID_SESSION_TOKEN, "The security token included in the request is invalid.");
        }
    }
}
