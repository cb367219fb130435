package dev.citadel.auth;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Fuzzes {@link SigV4Parser} on a presigned query, then {@link SigV4Verifier} on whatever it
 * accepts, with both the S3 path rules and the others. An input is two LF-separated fields: the
 * raw path and the raw query of a GET to {@code example.amazonaws.com}. Only {@link AuthException}
 * may escape.
 * <p>
 * Under {@code mvn test} the regression corpus in
 * {@code src/test/resources/dev/citadel/auth/PresignedQueryFuzzTestInputs/parse/} runs. A campaign:
 * {@code JAZZER_FUZZ=1 mvn -B -o -pl citadel-auth -am test -Dtest=PresignedQueryFuzzTest
 * -Dsurefire.failIfNoSpecifiedTests=false}; keep each crash input in that directory once fixed.
 */
class PresignedQueryFuzzTest {
    @FuzzTest(maxDuration = "60s")
    void parse(byte[] input) {
        String[] f = FuzzInputs.fields(input, 2);
        HttpRequestView view = new HttpRequestView("GET", f[0], f[1], Map.of("host", List.of("example.amazonaws.com")));
        SigV4Authorization auth;
        try {
            auth = SigV4Parser.parse(view);
        } catch (AuthException refused) {
            return;
        }
        for (boolean s3 : new boolean[] {false, true}) {
            try {
                FuzzInputs.VERIFIER.verify(view, auth, FuzzInputs.SECRET, Optional.empty(), SigV4.EMPTY_SHA256, s3);
            } catch (AuthException refused) {
                // a signature that does not match, or a request out of its time window
            }
        }
    }
}
