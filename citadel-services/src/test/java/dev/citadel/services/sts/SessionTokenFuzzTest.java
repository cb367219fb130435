package dev.citadel.services.sts;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;

/**
 * Fuzz target for opening session tokens, which arrive from any client. Corpus:
 * {@code src/test/resources/dev/citadel/services/sts/SessionTokenFuzzTestInputs/open/}. A campaign:
 * {@code JAZZER_FUZZ=1 mvn -pl citadel-services -am test -Dtest=SessionTokenFuzzTest -Dsurefire.failIfNoSpecifiedTests=false}.
 * Every input must be refused (empty) without an exception: forging a token needs the root key.
 */
class SessionTokenFuzzTest {
    private static final SessionTokens TOKENS = SessionTokensTest.tokens((byte) 7);

    @FuzzTest(maxDuration = "30s")
    void open(byte[] input) {
        String token = new String(input, StandardCharsets.UTF_8);
        if (TOKENS.open("ASIAFUZZ000000000000", token).isPresent()) {
            throw new AssertionError("a token that was never issued opened");
        }
        if (TOKENS.open("ASIAFUZZ000000000000", "CTZ1" + token).isPresent()) {
            throw new AssertionError("a token that was never issued opened");
        }
    }
}
