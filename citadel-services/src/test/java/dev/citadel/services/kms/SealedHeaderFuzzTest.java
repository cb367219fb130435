package dev.citadel.services.kms;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Fuzz target for sealed-blob headers, which are read from stored objects (and, through uploads
 * that keep them, from clients). Corpus:
 * {@code src/test/resources/dev/citadel/services/kms/SealedHeaderFuzzTestInputs/parse/}. A
 * campaign: {@code JAZZER_FUZZ=1 mvn -pl citadel-services -am test -Dtest=SealedHeaderFuzzTest
 * -Dsurefire.failIfNoSpecifiedTests=false}. Parsing either refuses or gives lengths inside the input.
 */
class SealedHeaderFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void parse(byte[] input) {
        SealedBlobs.parseHeader(input).ifPresent(h -> {
            if (h.length() > input.length || h.wrappedKey().length > CiphertextBlob.MAX_BLOB || h.keyArn().length() > 2048) {
                throw new AssertionError("a header claims more than its input holds");
            }
            CiphertextBlob.parse(h.wrappedKey());
        });
    }
}
