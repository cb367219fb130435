package dev.citadel.services.kms;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The ciphertext blob KMS returns from Encrypt and GenerateDataKey: self-describing, so Decrypt
 * needs no key id, and bound to its encryption context.
 *
 * <pre>
 * blob  = version (1 byte, 0x01)
 *      || key id length n (1 byte, 1..64) || key id (n bytes, ASCII)
 *      || key version (4 bytes, big-endian, ≥ 1)
 *      || nonce (12 bytes)
 *      || AES-256-GCM ciphertext || tag (16 bytes)
 * associated data = "citadel/kms/v1\0" || the header above (version .. nonce)
 *                 || encryption context: for each pair in key order, u16 length + UTF-8 key, u16 length + UTF-8 value
 * </pre>
 * Blobs longer than {@link #MAX_BLOB} bytes, shorter than a header plus tag, or with any field out
 * of range are refused by {@link #parse} before anything is allocated for them.
 */
public record CiphertextBlob(String keyId, int keyVersion, byte[] nonce, byte[] ciphertext) {
    public static final byte VERSION = 1;
    public static final int NONCE_BYTES = 12;
    public static final int TAG_BYTES = 16;
    /** KMS's own limit for CiphertextBlob. */
    public static final int MAX_BLOB = 6144;
    private static final byte[] AAD_PREFIX = "citadel/kms/v1\0".getBytes(StandardCharsets.US_ASCII);

    public byte[] header() {
        byte[] id = keyId.getBytes(StandardCharsets.US_ASCII);
        return ByteBuffer.allocate(2 + id.length + 4 + NONCE_BYTES).put(VERSION).put((byte) id.length).put(id).putInt(keyVersion).put(nonce)
                .array();
    }

    public byte[] encode() {
        byte[] header = header();
        return ByteBuffer.allocate(header.length + ciphertext.length).put(header).put(ciphertext).array();
    }

    /** The associated data that binds the header and the encryption context. */
    public byte[] associatedData(Map<String, String> encryptionContext) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(AAD_PREFIX);
        out.writeBytes(header());
        for (Map.Entry<String, String> e : new TreeMap<>(encryptionContext).entrySet()) {
            writeString(out, e.getKey());
            writeString(out, e.getValue());
        }
        return out.toByteArray();
    }

    private static void writeString(ByteArrayOutputStream out, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.write(b.length >>> 8);
        out.write(b.length);
        out.writeBytes(b);
    }

    /** Reads a blob; empty when it is not one of this format. */
    public static Optional<CiphertextBlob> parse(byte[] blob) {
        if (blob == null || blob.length > MAX_BLOB || blob.length < 2 + 1 + 4 + NONCE_BYTES + TAG_BYTES || blob[0] != VERSION) {
            return Optional.empty();
        }
        int n = blob[1] & 0xff;
        if (n < 1 || n > 64 || blob.length < 2 + n + 4 + NONCE_BYTES + TAG_BYTES) {
            return Optional.empty();
        }
        for (int i = 2; i < 2 + n; i++) {
            if (blob[i] < 0x21 || blob[i] > 0x7e) {
                return Optional.empty();
            }
        }
        ByteBuffer b = ByteBuffer.wrap(blob);
        b.position(2);
        byte[] id = new byte[n];
        b.get(id);
        int version = b.getInt();
        if (version < 1) {
            return Optional.empty();
        }
        byte[] nonce = new byte[NONCE_BYTES];
        b.get(nonce);
        byte[] ct = new byte[b.remaining()];
        b.get(ct);
        return Optional.of(new CiphertextBlob(new String(id, StandardCharsets.US_ASCII), version, nonce, ct));
    }
}
