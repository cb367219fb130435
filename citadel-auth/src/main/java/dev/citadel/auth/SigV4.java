package dev.citadel.auth;

import dev.citadel.core.Hex;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The SigV4 primitives: the string to sign
 * ({@code AWS4-HMAC-SHA256\n<amz-date>\n<scope>\n<hex sha256 of canonical request>}), the signing
 * key ({@code HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request")}) and
 * hashing.
 */
public final class SigV4 {
    public static final String ALGORITHM = "AWS4-HMAC-SHA256";
    public static final String EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    public static final String UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
    public static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    private SigV4() {
    }

    public static String stringToSign(String amzDate, CredentialScope scope, String canonicalRequest) {
        return ALGORITHM + "\n" + amzDate + "\n" + scope.scope() + "\n" + sha256Hex(canonicalRequest.getBytes(StandardCharsets.UTF_8));
    }

    public static byte[] signingKey(byte[] secretAccessKey, String date, String region, String service) {
        byte[] prefixed = new byte[4 + secretAccessKey.length];
        prefixed[0] = 'A';
        prefixed[1] = 'W';
        prefixed[2] = 'S';
        prefixed[3] = '4';
        System.arraycopy(secretAccessKey, 0, prefixed, 4, secretAccessKey.length);
        byte[] k = hmac(prefixed, date);
        java.util.Arrays.fill(prefixed, (byte) 0);
        k = hmac(k, region);
        k = hmac(k, service);
        return hmac(k, "aws4_request");
    }

    public static String signatureHex(byte[] signingKey, String stringToSign) {
        return Hex.encode(hmac(signingKey, stringToSign));
    }

    public static byte[] hmac(byte[] key, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }

    public static String sha256Hex(byte[] data) {
        return Hex.encode(sha256().digest(data));
    }

    public static String amzDate(Instant t) {
        return AMZ_DATE.format(t);
    }

    /** Compares two signatures in constant time. */
    public static boolean sameSignature(String expected, String given) {
        return MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII), given.getBytes(StandardCharsets.US_ASCII));
    }
}
