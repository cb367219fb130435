package dev.citadel.server.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.core.SecretBytes;
import java.security.SecureRandom;
import org.junit.jupiter.api.Test;

class AesGcmSecretSealerTest {
    private final SecureRandom random = new SecureRandom();
    private final AesGcmSecretSealer sealer = new AesGcmSecretSealer(SecretBytes.copyOf(new byte[32]), random);

    @Test
    void sealedSecretOpensWithTheSameContext() {
        byte[] sealed = sealer.seal(SecretBytes.ofUtf8("wJalrXUtnFEMI/K7MDENG"), "iam/access-key/AKIA1");
        assertThat(sealer.unseal(sealed, "iam/access-key/AKIA1").revealUtf8()).isEqualTo("wJalrXUtnFEMI/K7MDENG");
    }

    @Test
    void sealedValueDoesNotContainThePlaintext() {
        byte[] sealed = sealer.seal(SecretBytes.ofUtf8("SECRETSECRETSECRET"), "ctx");
        assertThat(new String(sealed, java.nio.charset.StandardCharsets.ISO_8859_1)).doesNotContain("SECRET");
        assertThat(sealed[0]).isEqualTo((byte) 1);
    }

    @Test
    void otherContextDoesNotOpen() {
        byte[] sealed = sealer.seal(SecretBytes.ofUtf8("s"), "iam/access-key/AKIA1");
        assertThatThrownBy(() -> sealer.unseal(sealed, "iam/access-key/AKIA2")).hasMessage("sealed value is invalid");
    }

    @Test
    void everyFlippedBitIsDetected() {
        byte[] sealed = sealer.seal(SecretBytes.ofUtf8("secret"), "ctx");
        for (int i = 0; i < sealed.length * 8; i++) {
            byte[] copy = sealed.clone();
            copy[i / 8] ^= (byte) (1 << (i % 8));
            assertThatThrownBy(() -> sealer.unseal(copy, "ctx")).as("bit %d", i).hasMessage("sealed value is invalid");
        }
    }

    @Test
    void otherRootKeyDoesNotOpen() {
        byte[] key = new byte[32];
        key[0] = 1;
        byte[] sealed = sealer.seal(SecretBytes.ofUtf8("secret"), "ctx");
        AesGcmSecretSealer other = new AesGcmSecretSealer(SecretBytes.copyOf(key), random);
        assertThatThrownBy(() -> other.unseal(sealed, "ctx")).hasMessage("sealed value is invalid");
    }

    @Test
    void oversizedAndTruncatedValuesAreRefusedBeforeDecrypting() {
        assertThatThrownBy(() -> sealer.unseal(new byte[5000], "ctx")).hasMessage("sealed value is invalid");
        assertThatThrownBy(() -> sealer.unseal(new byte[10], "ctx")).hasMessage("sealed value is invalid");
    }
}
