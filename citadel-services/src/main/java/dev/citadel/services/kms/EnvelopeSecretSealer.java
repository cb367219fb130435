package dev.citadel.services.kms;

import dev.citadel.core.SecretBytes;
import dev.citadel.core.SecretSealer;
import dev.citadel.metadata.kms.KmsRepository;
import dev.citadel.metadata.kms.KmsRepository.Key;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Seals the secrets kept in the metadata store (secret access keys, TOTP seeds, session tokens)
 * as sealed blobs under Citadel's own KMS key ({@value #ALIAS} in the management account), the
 * secret's context as the encryption context. Until that key exists (during the very first
 * start) and for values written before it did, the root key seals directly; {@link #isEnvelope}
 * tells the two apart, and {@link #migrate} re-seals the older ones. The key's policy lets nobody
 * use, disable, delete or re-police it through the API: only Citadel uses it, from inside.
 */
public final class EnvelopeSecretSealer implements SecretSealer {
    public static final String ALIAS = "alias/citadel/secrets";
    private static final String CONTEXT_KEY = "citadel:secret";
    /** Log chunks (JobLogs) are the largest values sealed this way: at most about 256 KiB of events. */
    private static final int MAX_SEALED = 1024 * 1024;

    private final SecretSealer root;
    private final KmsKeys keys;
    private final SealedBlobs blobs;
    private final AtomicReference<String> systemKeyId = new AtomicReference<>();

    public EnvelopeSecretSealer(SecretSealer root, KmsKeys keys) {
        this.root = root;
        this.keys = keys;
        this.blobs = new SealedBlobs(keys);
    }

    /** Whether a stored value is a sealed blob (rather than sealed directly under the root key). */
    public static boolean isEnvelope(byte[] sealed) {
        return sealed != null && sealed.length > 4 && sealed[0] == 'C' && sealed[1] == 'T' && sealed[2] == 'Z' && sealed[3] == 'B';
    }

    /** Finds or creates Citadel's secrets key in the management account; from then on new secrets are envelopes. */
    public void useSystemKey(String managementAccount, String region) {
        systemKeyId.set(keys.managedKey(managementAccount, region, ALIAS,
                "Citadel's key for the secrets in its metadata store (used by Citadel only)").keyId());
    }

    @Override
    public byte[] seal(SecretBytes secret, String context) {
        String keyId = systemKeyId.get();
        if (keyId == null) {
            return root.seal(secret, context);
        }
        Key key = keys.key(keyId).orElseThrow(() -> new IllegalStateException("Citadel's secrets key is missing"));
        byte[] plain = secret.revealBytes();
        try {
            return blobs.seal(plain, key, Map.of(CONTEXT_KEY, context));
        } catch (IOException e) {
            throw new IllegalStateException("sealing a secret failed: " + e.getMessage(), e);
        } finally {
            java.util.Arrays.fill(plain, (byte) 0);
        }
    }

    @Override
    public SecretBytes unseal(byte[] sealed, String context) {
        if (!isEnvelope(sealed)) {
            return root.unseal(sealed, context);
        }
        if (sealed.length > MAX_SEALED) {
            throw new IllegalArgumentException("the sealed value does not open");
        }
        try (SeekableByteChannel c = blobs.open(dev.citadel.core.ReadOnlyChannel.of(sealed), Map.of(CONTEXT_KEY, context))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteBuffer buffer = ByteBuffer.allocate(4096);
            while (c.read(buffer) > 0) {
                out.write(buffer.array(), 0, buffer.position());
                buffer.clear();
            }
            byte[] plain = out.toByteArray();
            SecretBytes secret = SecretBytes.copyOf(plain);
            java.util.Arrays.fill(plain, (byte) 0);
            return secret;
        } catch (IOException e) {
            throw new IllegalArgumentException("the sealed value does not open");
        }
    }

    /**
     * Re-seals, as envelopes, the secrets that were sealed directly under the root key (those of the
     * first start, or of an installation from before envelopes), in one transaction.
     */
    public int migrate() {
        return keys.changeAndGet(h -> {
            int n = 0;
            for (var row : h.createQuery("SELECT access_key_id, secret_sealed FROM iam_access_keys").mapToMap().list()) {
                byte[] sealed = (byte[]) row.get("secret_sealed");
                if (!isEnvelope(sealed)) {
                    String context = dev.citadel.services.accounts.AccountDirectory.sealContext((String) row.get("access_key_id"));
                    h.createUpdate("UPDATE iam_access_keys SET secret_sealed = :s WHERE access_key_id = :id")
                            .bind("s", seal(root.unseal(sealed, context), context)).bind("id", row.get("access_key_id")).execute();
                    n++;
                }
            }
            for (var row : h.createQuery("SELECT serial_number, seed_sealed FROM iam_mfa_devices").mapToMap().list()) {
                byte[] sealed = (byte[]) row.get("seed_sealed");
                if (!isEnvelope(sealed)) {
                    String context = dev.citadel.services.iam.MfaVerifier.sealContext((String) row.get("serial_number"));
                    h.createUpdate("UPDATE iam_mfa_devices SET seed_sealed = :s WHERE serial_number = :id")
                            .bind("s", seal(root.unseal(sealed, context), context)).bind("id", row.get("serial_number")).execute();
                    n++;
                }
            }
            return n;
        });
    }
}
