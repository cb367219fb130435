package dev.citadel.services.kms;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.core.Hex;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The primitives KMS and sealed blobs use, exactly as they call them (AES/GCM/NoPadding with a 96-bit
 * nonce and a 128-bit tag; HmacSHA256 compared in constant time; HKDF-SHA256 through Tink), against Project Wycheproof's vectors in
 * {@code ../shared/testdata/wycheproof}. Vectors for parameters KMS never uses (other nonce and tag
 * sizes) are skipped by their group's parameters, not one by one.
 */
class WycheproofTest {
    static Path vectors(String file) {
        Path project = Path.of(System.getProperty("citadel.projectRoot", "..")).toAbsolutePath().normalize();
        Path f = project.resolveSibling("shared").resolve("testdata").resolve("wycheproof").resolve(file);
        if (!Files.isRegularFile(f)) {
            throw new IllegalStateException("Wycheproof vectors not found at " + f);
        }
        return f;
    }

    static Stream<Named<JsonNode>> cases(String file, java.util.function.Predicate<JsonNode> groupUsed) throws Exception {
        JsonNode root = new ObjectMapper().readTree(vectors(file).toFile());
        List<Named<JsonNode>> out = new ArrayList<>();
        for (JsonNode group : root.path("testGroups")) {
            if (!groupUsed.test(group)) {
                continue;
            }
            for (JsonNode t : group.path("tests")) {
                ((com.fasterxml.jackson.databind.node.ObjectNode) t).set("group", ((com.fasterxml.jackson.databind.node.ObjectNode) group.deepCopy()).without("tests"));
                out.add(Named.of(file + "#" + t.path("tcId").asInt() + " " + t.path("comment").asText(), t));
            }
        }
        assertThat(out).isNotEmpty();
        return out.stream();
    }

    static Stream<Named<JsonNode>> aesGcm() throws Exception {
        return cases("aes_gcm_test.json", g -> g.path("ivSize").asInt() == 96 && g.path("tagSize").asInt() == 128);
    }

    static Stream<Named<JsonNode>> hmac() throws Exception {
        return cases("hmac_sha256_test.json", g -> g.path("tagSize").asInt() == 256);
    }

    @ParameterizedTest
    @MethodSource("aesGcm")
    void aesGcm(JsonNode t) throws Exception {
        SecretKeySpec key = new SecretKeySpec(Hex.decode(t.path("key").asText()), "AES");
        byte[] iv = Hex.decode(t.path("iv").asText());
        byte[] aad = Hex.decode(t.path("aad").asText());
        byte[] msg = Hex.decode(t.path("msg").asText());
        byte[] sealed = concat(Hex.decode(t.path("ct").asText()), Hex.decode(t.path("tag").asText()));
        boolean valid = !t.path("result").asText().equals("invalid");
        Cipher d = Cipher.getInstance("AES/GCM/NoPadding");
        byte[] opened;
        try {
            d.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(128, iv));
            d.updateAAD(aad);
            opened = d.doFinal(sealed);
        } catch (GeneralSecurityException e) {
            assertThat(valid).as("refused: %s", e).isFalse();
            return;
        }
        assertThat(valid).as("an invalid ciphertext opened").isTrue();
        assertThat(opened).isEqualTo(msg);
        Cipher e = Cipher.getInstance("AES/GCM/NoPadding");
        e.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, iv));
        e.updateAAD(aad);
        assertThat(e.doFinal(msg)).isEqualTo(sealed);
    }

    static Stream<Named<JsonNode>> hkdf() throws Exception {
        return cases("hkdf_sha256_test.json", g -> true);
    }

    /** HKDF-SHA256 as Tink's streaming AEAD derives each sealed blob's key with it. */
    @ParameterizedTest
    @MethodSource("hkdf")
    void hkdfSha256(JsonNode t) throws Exception {
        byte[] okm;
        try {
            okm = com.google.crypto.tink.subtle.Hkdf.computeHkdf("HMACSHA256", Hex.decode(t.path("ikm").asText()),
                    Hex.decode(t.path("salt").asText()), Hex.decode(t.path("info").asText()), t.path("size").asInt());
        } catch (GeneralSecurityException e) {
            assertThat(t.path("result").asText()).as("refused: %s", e).isEqualTo("invalid");
            return;
        }
        assertThat(t.path("result").asText()).isNotEqualTo("invalid");
        assertThat(okm).isEqualTo(Hex.decode(t.path("okm").asText()));
    }

    @ParameterizedTest
    @MethodSource("hmac")
    void hmacSha256(JsonNode t) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(Hex.decode(t.path("key").asText()), "HmacSHA256"));
        byte[] tag = mac.doFinal(Hex.decode(t.path("msg").asText()));
        boolean same = MessageDigest.isEqual(tag, Hex.decode(t.path("tag").asText()));
        assertThat(same).isEqualTo(!t.path("result").asText().equals("invalid"));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
