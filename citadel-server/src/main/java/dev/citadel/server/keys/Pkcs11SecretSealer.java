package dev.citadel.server.keys;

import dev.citadel.core.SecretSealer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.Provider;
import java.security.SecureRandom;
import java.security.Security;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;

/**
 * Seals small secrets with AES-256-GCM inside a PKCS#11 token (SunPKCS11): the root key is an AES
 * key generated on the token as sensitive and non-extractable, stored there under a label, and
 * never leaves it; Citadel only asks the token to encrypt and decrypt. The same code drives
 * SoftHSM2 (in tests) and a hardware HSM. Sealing is {@link AesGcmSecretSealer}'s, done by the
 * token's provider, so the format is the same with either root key.
 */
public final class Pkcs11SecretSealer {
    private Pkcs11SecretSealer() {
    }

    /**
     * Logs in to the token and finds the root key by label, generating it on the token on first use.
     *
     * @param library    the PKCS#11 module ({@code /usr/lib/softhsm/libsofthsm2.so} for SoftHSM2)
     * @param slotIndex  the token's index in the module's slot list
     * @param pinFile    a file whose first line is the user PIN (0600; kept out of configuration)
     */
    public static SecretSealer open(Path library, int slotIndex, Path pinFile, String keyLabel, SecureRandom random) {
        return open(library, slotIndex, pinFile, keyLabel, random, true);
    }

    /** As {@link #open}, but a token without a key of that label is refused rather than given a new one (restores and backups). */
    public static SecretSealer openExisting(Path library, int slotIndex, Path pinFile, String keyLabel, SecureRandom random) {
        return open(library, slotIndex, pinFile, keyLabel, random, false);
    }

    private static SecretSealer open(Path library, int slotIndex, Path pinFile, String keyLabel, SecureRandom random, boolean create) {
        if (!Files.isRegularFile(library)) {
            throw new IllegalStateException("PKCS#11 module not found: " + library);
        }
        dev.citadel.server.fs.SecureFiles.requireOwnerOnly(pinFile);
        char[] pin;
        try {
            pin = Files.readAllLines(pinFile, StandardCharsets.UTF_8).stream().findFirst().orElse("").strip().toCharArray();
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot read the PKCS#11 PIN file " + pinFile, e);
        }
        String config = "--name = Citadel" + slotIndex + "\n"
                + "library = " + library + "\n"
                + "slotListIndex = " + slotIndex + "\n"
                + "attributes(generate, CKO_SECRET_KEY, CKK_AES) = {\n"
                + "  CKA_SENSITIVE = true\n  CKA_EXTRACTABLE = false\n  CKA_ENCRYPT = true\n  CKA_DECRYPT = true\n}\n";
        Provider base = Security.getProvider("SunPKCS11");
        if (base == null) {
            throw new IllegalStateException("this Java runtime has no SunPKCS11 provider");
        }
        Provider provider = base.configure(config);
        try {
            KeyStore store = KeyStore.getInstance("PKCS11", provider);
            store.load(null, pin);
            SecretKey key;
            if (store.containsAlias(keyLabel)) {
                key = (SecretKey) store.getKey(keyLabel, null);
            } else if (!create) {
                throw new IllegalStateException("the PKCS#11 token holds no root key labelled " + keyLabel);
            } else {
                KeyGenerator g = KeyGenerator.getInstance("AES", provider);
                g.init(256, random);
                SecretKey session = g.generateKey();
                store.setEntry(keyLabel, new KeyStore.SecretKeyEntry(session), null);
                key = (SecretKey) store.getKey(keyLabel, null);
            }
            if (key == null || !key.getAlgorithm().equals("AES")) {
                throw new IllegalStateException("the token holds no AES key labelled " + keyLabel);
            }
            if (key.getEncoded() != null) {
                throw new IllegalStateException("the root key labelled " + keyLabel + " is extractable; Citadel uses only non-extractable keys");
            }
            return new AesGcmSecretSealer(key, provider, random);
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalStateException("the PKCS#11 token could not be opened: " + e.getMessage(), e);
        } finally {
            java.util.Arrays.fill(pin, '\0');
        }
    }
}
