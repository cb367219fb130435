package dev.citadel.services.cloudtrail;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.metadata.MetadataConfig;
import dev.citadel.metadata.MetadataStore;
import dev.citadel.metadata.cloudtrail.SigningKeyRepository.SigningKey;
import dev.citadel.services.TestSupport;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.RSAPublicKeySpec;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DigestSigningKeysTest {
    @TempDir
    Path dir;
    private MetadataStore store;
    private TestSupport.MovableClock clock;
    private DigestSigningKeys keys;

    @BeforeEach
    void setUp() {
        store = MetadataStore.open(MetadataConfig.embedded(dir.resolve("db")));
        clock = new TestSupport.MovableClock();
        keys = new DigestSigningKeys(store, new TestSupport.MarkingSealer(), new SecureRandom(), clock);
    }

    @AfterEach
    void tearDown() {
        store.close();
    }

    @Test
    void oneKeyPerRegionAndYearSignsWhatItsPublicHalfVerifies() throws Exception {
        SigningKey key = keys.current("us-east-1");
        assertThat(keys.current("us-east-1").fingerprint()).isEqualTo(key.fingerprint());
        assertThat(keys.current("eu-west-1").fingerprint()).isNotEqualTo(key.fingerprint());
        byte[] data = "2026-11-29T10:00:00Z\nlogs/AWSLogs/1/CloudTrail-Digest/x.json.gz\nabc\nnull".getBytes(StandardCharsets.UTF_8);
        byte[] signature = keys.sign(key, data);
        assertThat(DigestSigningKeys.verify(key.publicKey(), data, signature)).isTrue();
        byte[] other = data.clone();
        other[0] ^= 1;
        assertThat(DigestSigningKeys.verify(key.publicKey(), other, signature)).isFalse();
        assertThat(key.fingerprint()).isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(key.publicKey())));

        clock.now = clock.now.plus(DigestSigningKeys.VALIDITY).plus(Duration.ofSeconds(1));
        SigningKey next = keys.current("us-east-1");
        assertThat(next.fingerprint()).isNotEqualTo(key.fingerprint());
        assertThat(keys.validBetween("us-east-1", key.validFrom(), next.validFrom())).extracting(SigningKey::fingerprint)
                .containsExactly(key.fingerprint(), next.fingerprint());
    }

    /** The public key is PKCS#1 DER: for RSA-2048 with e = 65537 it is the SubjectPublicKeyInfo from byte 24 on, and it parses back. */
    @Test
    void thePublicKeyIsPkcs1() throws Exception {
        SigningKey key = keys.current("us-east-1");
        RSAPublicKey parsed = (RSAPublicKey) DigestSigningKeys.publicKey(key.publicKey());
        byte[] spki = KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(parsed.getModulus(), parsed.getPublicExponent())).getEncoded();
        assertThat(Arrays.copyOfRange(spki, 24, spki.length)).isEqualTo(key.publicKey());
        assertThat(DigestSigningKeys.pkcs1(parsed)).isEqualTo(key.publicKey());
        assertThat(key.privateSealed()).as("the private key is stored sealed").isNotEqualTo(key.publicKey());
    }
}
