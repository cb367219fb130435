package dev.citadel.core;

import java.security.MessageDigest;
import java.util.Arrays;

/**
 * Key material or any other secret. It never prints itself; the raw bytes are reachable only
 * through {@link #revealBytes()}, a name that is easy to grep for.
 */
public final class SecretBytes {
    private final byte[] bytes;

    private SecretBytes(byte[] bytes) {
        this.bytes = bytes;
    }

    public static SecretBytes copyOf(byte[] bytes) {
        return new SecretBytes(bytes.clone());
    }

    public static SecretBytes ofUtf8(String secret) {
        return new SecretBytes(secret.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /** A copy of the secret; the caller is responsible for not leaking it. */
    public byte[] revealBytes() {
        return bytes.clone();
    }

    /** The secret as UTF-8 text; the caller is responsible for not leaking it. */
    public String revealUtf8() {
        return new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
    }

    public int length() {
        return bytes.length;
    }

    /** Constant-time equality. */
    public boolean sameAs(SecretBytes other) {
        return MessageDigest.isEqual(bytes, other.bytes);
    }

    public void destroy() {
        Arrays.fill(bytes, (byte) 0);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SecretBytes other && sameAs(other);
    }

    @Override
    public int hashCode() {
        return bytes.length;
    }

    @Override
    public String toString() {
        return "SecretBytes[redacted]";
    }
}
