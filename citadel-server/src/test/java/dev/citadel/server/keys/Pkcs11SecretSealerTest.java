package dev.citadel.server.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.core.SecretBytes;
import java.security.SecureRandom;
import org.junit.jupiter.api.Test;

/** The PKCS#11 root key in SoftHSM2: sealing round trips, contexts bind, and the key cannot be exported. */
class Pkcs11SecretSealerTest {
    @Test
    void sealsInsideTheTokenWithANonExtractableKey() {
        dev.citadel.core.SecretSealer sealer = Pkcs11SecretSealer.open(SoftHsm.LIBRARY, 0, SoftHsm.pinFile(), "sealer-test", new SecureRandom());
        byte[] sealed = sealer.seal(SecretBytes.ofUtf8("wJalrXUtnFEMI/K7MDENG"), "iam/access-key/AKIA1");
        assertThat(sealer.unseal(sealed, "iam/access-key/AKIA1").revealUtf8()).isEqualTo("wJalrXUtnFEMI/K7MDENG");
        assertThatThrownBy(() -> sealer.unseal(sealed, "iam/access-key/AKIA2")).isInstanceOf(IllegalArgumentException.class);
        sealed[sealed.length - 1] ^= 1;
        assertThatThrownBy(() -> sealer.unseal(sealed, "iam/access-key/AKIA1")).isInstanceOf(IllegalArgumentException.class);

        dev.citadel.core.SecretSealer again = Pkcs11SecretSealer.open(SoftHsm.LIBRARY, 0, SoftHsm.pinFile(), "sealer-test", new SecureRandom());
        byte[] other = sealer.seal(SecretBytes.ofUtf8("x"), "c");
        assertThat(again.unseal(other, "c").revealUtf8()).as("the same key found again by its label").isEqualTo("x");
    }

    @Test
    void openExistingFindsAKeyByItsLabelAndNeverMakesOne() {
        String label = "never-made-" + Long.toHexString(new SecureRandom().nextLong());
        assertThatThrownBy(() -> Pkcs11SecretSealer.openExisting(SoftHsm.LIBRARY, 0, SoftHsm.pinFile(), label, new SecureRandom()))
                .hasMessageContaining("holds no root key labelled " + label);
        assertThatThrownBy(() -> Pkcs11SecretSealer.openExisting(SoftHsm.LIBRARY, 0, SoftHsm.pinFile(), label, new SecureRandom()))
                .as("the first refusal made no key").hasMessageContaining("holds no root key labelled");
        dev.citadel.core.SecretSealer made = Pkcs11SecretSealer.open(SoftHsm.LIBRARY, 0, SoftHsm.pinFile(), label, new SecureRandom());
        byte[] sealed = made.seal(SecretBytes.ofUtf8("x"), "c");
        assertThat(Pkcs11SecretSealer.openExisting(SoftHsm.LIBRARY, 0, SoftHsm.pinFile(), label, new SecureRandom()).unseal(sealed, "c")
                .revealUtf8()).isEqualTo("x");
    }
}
