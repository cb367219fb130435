package dev.citadel.services.kms;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Map;

/**
 * Fuzz target for ciphertext blobs, which Decrypt and ReEncrypt take from any client. Corpus:
 * {@code src/test/resources/dev/citadel/services/kms/CiphertextBlobFuzzTestInputs/parseAndOpen/}.
 * A campaign: {@code JAZZER_FUZZ=1 mvn -pl citadel-services -am test -Dtest=CiphertextBlobFuzzTest
 * -Dsurefire.failIfNoSpecifiedTests=false}. Parsing either refuses or gives a blob whose encoding
 * is the input; whatever parses must then fail to open under a key that never made it.
 */
class CiphertextBlobFuzzTest {
    private static final javax.crypto.spec.SecretKeySpec KEY = new javax.crypto.spec.SecretKeySpec(new byte[32], "AES");

    @FuzzTest(maxDuration = "30s")
    void parseAndOpen(byte[] input) throws Exception {
        var parsed = CiphertextBlob.parse(input);
        if (parsed.isEmpty()) {
            return;
        }
        CiphertextBlob blob = parsed.get();
        if (!java.util.Arrays.equals(blob.encode(), input)) {
            throw new AssertionError("a parsed blob does not encode to its input");
        }
        javax.crypto.Cipher c = javax.crypto.Cipher.getInstance("AES/GCM/NoPadding");
        c.init(javax.crypto.Cipher.DECRYPT_MODE, KEY, new javax.crypto.spec.GCMParameterSpec(128, blob.nonce()));
        c.updateAAD(blob.associatedData(Map.of("k", "v")));
        try {
            c.doFinal(blob.ciphertext());
        } catch (javax.crypto.AEADBadTagException expected) {
            return;
        }
        throw new AssertionError("a blob nobody sealed opened");
    }
}
