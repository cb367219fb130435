package dev.citadel.server.keys;

import dev.citadel.core.SecretBytes;
import dev.citadel.server.fs.SecureFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;

/**
 * The embedded root key: 32 random bytes in {@code keys/root.key}, created on first start with
 * mode 0600. Citadel refuses to start when the file is readable by anyone but its owner or has
 * the wrong length.
 */
public final class RootKeyFile {
    public static final int KEY_BYTES = 32;

    private RootKeyFile() {
    }

    public static SecretBytes loadOrCreate(Path file, SecureRandom random) {
        if (!Files.exists(file)) {
            SecureFiles.createPrivateDirectory(file.getParent());
            byte[] key = new byte[KEY_BYTES];
            random.nextBytes(key);
            SecureFiles.writePrivate(file, key);
            SecretBytes secret = SecretBytes.copyOf(key);
            java.util.Arrays.fill(key, (byte) 0);
            return secret;
        }
        return load(file);
    }

    /** Reads an existing root key file; never makes one (a backup or a restore needs the key the data was sealed under). */
    public static SecretBytes load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException("no root key file at " + file);
        }
        SecureFiles.requireOwnerOnly(file);
        try {
            byte[] key = Files.readAllBytes(file);
            if (key.length != KEY_BYTES) {
                java.util.Arrays.fill(key, (byte) 0);
                throw new IllegalStateException(file + " must hold exactly " + KEY_BYTES + " bytes");
            }
            SecretBytes secret = SecretBytes.copyOf(key);
            java.util.Arrays.fill(key, (byte) 0);
            return secret;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read root key " + file, e);
        }
    }
}
