package dev.citadel.server.keys;

import dev.citadel.core.SecretBytes;
import dev.citadel.core.SecretSealer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Seals small secrets directly under the root key with AES-256-GCM.
 *
 * <pre>
 * sealed = version (1 byte, 0x01) || nonce (12 bytes, random) || ciphertext || tag (16 bytes)
 * associated data = "citadel/secret/v1\0" || UTF-8(context)
 * </pre>
 * Sealed values are capped at 16 KiB before anything is allocated; every failure to open gives
 * the same message.
 */
public final class AesGcmSecretSealer implements SecretSealer {
    private static final byte VERSION = 1;
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;
    /** Session tokens are the largest sealed values (bounded by PackedPolicySize and the request header limit). */
    static final int MAX_SEALED = 16 * 1024;
    private static final byte[] AAD_PREFIX = "citadel/secret/v1\0".getBytes(StandardCharsets.US_ASCII);

    private final java.security.Key key;
    private final java.security.Provider provider;
    private final SecureRandom random;

    public AesGcmSecretSealer(SecretBytes rootKey, SecureRandom random) {
        if (rootKey.length() != 32) {
            throw new IllegalArgumentException("root key must be 32 bytes");
        }
        this.key = new SecretKeySpec(rootKey.revealBytes(), "AES");
        this.provider = null;
        this.random = random;
    }

    /** The same sealing done by a provider holding the key, such as a PKCS#11 token whose key never leaves it. */
    AesGcmSecretSealer(java.security.Key key, java.security.Provider provider, SecureRandom random) {
        this.key = key;
        this.provider = provider;
        this.random = random;
    }

    private Cipher cipher() throws GeneralSecurityException {
        return provider == null ? Cipher.getInstance("AES/GCM/NoPadding") : Cipher.getInstance("AES/GCM/NoPadding", provider);
    }

    @Override
    public byte[] seal(SecretBytes secret, String context) {
        byte[] nonce = new byte[NONCE_BYTES];
        random.nextBytes(nonce);
        try {
            Cipher cipher = cipher();
            cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
            cipher.updateAAD(aad(context));
            byte[] plain = secret.revealBytes();
            byte[] ct = cipher.doFinal(plain);
            java.util.Arrays.fill(plain, (byte) 0);
            return ByteBuffer.allocate(1 + NONCE_BYTES + ct.length).put(VERSION).put(nonce).put(ct).array();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("sealing failed", e);
        }
    }

    @Override
    public SecretBytes unseal(byte[] sealed, String context) {
        if (sealed == null || sealed.length > MAX_SEALED || sealed.length < 1 + NONCE_BYTES + TAG_BITS / 8 || sealed[0] != VERSION) {
            throw invalid();
        }
        try {
            Cipher cipher = cipher();
            cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, sealed, 1, NONCE_BYTES));
            cipher.updateAAD(aad(context));
            byte[] plain = cipher.doFinal(sealed, 1 + NONCE_BYTES, sealed.length - 1 - NONCE_BYTES);
            SecretBytes out = SecretBytes.copyOf(plain);
            java.util.Arrays.fill(plain, (byte) 0);
            return out;
        } catch (GeneralSecurityException e) {
            throw invalid();
        }
    }

    private static byte[] aad(String context) {
        byte[] ctx = context.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(AAD_PREFIX.length + ctx.length).put(AAD_PREFIX).put(ctx).array();
    }

    private static IllegalArgumentException invalid() {
        return new IllegalArgumentException("sealed value is invalid");
    }
}
