package dev.citadel.core;

import java.security.SecureRandom;
import java.util.UUID;

/**
 * Identifiers in the shapes AWS uses: request ids, IAM unique ids ({@code AIDA…}, {@code AROA…}),
 * access key ids ({@code AKIA…}, {@code ASIA…}) and secret access keys.
 */
public final class Ids {
    private static final char[] UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".toCharArray();
    private static final char[] SECRET_ALPHABET =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".toCharArray();
    private static final char[] LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789".toCharArray();

    private final SecureRandom random;

    public Ids(SecureRandom random) {
        this.random = random;
    }

    /**
     * A random version-4 UUID for request and event ids. These name requests, they protect nothing,
     * so they come from {@link java.util.concurrent.ThreadLocalRandom} rather than the shared
     * {@code SecureRandom} behind {@link UUID#randomUUID()}, which serializes threads on the hot path.
     */
    public static String requestId() {
        java.util.concurrent.ThreadLocalRandom r = java.util.concurrent.ThreadLocalRandom.current();
        long hi = (r.nextLong() & ~0xF000L) | 0x4000L;
        long lo = (r.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
        return new UUID(hi, lo).toString();
    }

    /** An IAM-style unique id: a four-letter prefix (AIDA, AROA, AKIA, ASIA, …) and 16 more. */
    public String iamId(String prefix) {
        return prefix + pick(UPPER_ALNUM, 16);
    }

    /** A 40-character secret access key. */
    public String secretAccessKey() {
        return pick(SECRET_ALPHABET, 40);
    }

    /** Lower-case letters and digits, as in {@code o-abcd123456} and {@code car-…} ids. */
    public String lowerAlnum(int length) {
        return pick(LOWER_ALNUM, length);
    }

    public AccountId accountId() {
        return AccountId.random(random);
    }

    private String pick(char[] alphabet, int length) {
        char[] out = new char[length];
        for (int i = 0; i < length; i++) {
            out[i] = alphabet[random.nextInt(alphabet.length)];
        }
        return new String(out);
    }
}
