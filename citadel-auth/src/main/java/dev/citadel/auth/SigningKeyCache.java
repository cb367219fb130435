package dev.citadel.auth;

import dev.citadel.core.SecretBytes;
import java.security.MessageDigest;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Derived SigV4 signing keys, which are valid for one access key, date, region and service. A
 * derivation costs four HMACs; the cache makes it one lookup. Entries are keyed by the access key
 * id and scope and carry a SHA-256 fingerprint of the secret they were derived from, so a rotated
 * secret never reuses an old key. Bounded: when full it is cleared.
 */
public final class SigningKeyCache {
    private static final int MAX_ENTRIES = 10_000;

    private record Entry(byte[] secretFingerprint, byte[] key) {
    }

    private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();

    public byte[] signingKey(CredentialScope scope, SecretBytes secret) {
        String id = scope.accessKeyId() + '/' + scope.scope();
        byte[] secretBytes = secret.revealBytes();
        byte[] fingerprint = SigV4.sha256().digest(secretBytes);
        Entry e = entries.get(id);
        if (e != null && MessageDigest.isEqual(e.secretFingerprint, fingerprint)) {
            java.util.Arrays.fill(secretBytes, (byte) 0);
            return e.key;
        }
        byte[] key = SigV4.signingKey(secretBytes, scope.date(), scope.region(), scope.service());
        java.util.Arrays.fill(secretBytes, (byte) 0);
        if (entries.size() >= MAX_ENTRIES) {
            entries.clear();
        }
        entries.put(id, new Entry(fingerprint, key));
        return key;
    }
}
