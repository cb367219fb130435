package dev.citadel.auth;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Fuzzes {@link SigV4Parser} on the Authorization header, then {@link SigV4Verifier} on whatever it
 * accepts. An input is four LF-separated fields: the Authorization value, the X-Amz-Date value,
 * the Host value and the raw query of {@code GET /}. Only {@link AuthException} may escape.
 * <p>
 * Under {@code mvn test} the regression corpus in
 * {@code src/test/resources/dev/citadel/auth/AuthorizationHeaderFuzzTestInputs/parse/} runs. A
 * campaign: {@code JAZZER_FUZZ=1 mvn -B -o -pl citadel-auth -am test -Dtest=AuthorizationHeaderFuzzTest
 * -Dsurefire.failIfNoSpecifiedTests=false}; a crash is written to that directory: keep it there
 * once fixed.
 */
class AuthorizationHeaderFuzzTest {
    @FuzzTest(maxDuration = "60s")
    void parse(byte[] input) {
        String[] f = FuzzInputs.fields(input, 4);
        Map<String, List<String>> headers = new LinkedHashMap<>();
        headers.put("authorization", List.of(f[0]));
        headers.put("x-amz-date", List.of(f[1]));
        headers.put("host", List.of(f[2]));
        HttpRequestView view = new HttpRequestView("GET", "/", f[3], headers);
        try {
            SigV4Authorization auth = SigV4Parser.parse(view);
            FuzzInputs.VERIFIER.verify(view, auth, FuzzInputs.SECRET, Optional.empty(), SigV4.EMPTY_SHA256, false);
        } catch (AuthException refused) {
            // the expected outcome of nearly every input
        }
    }
}
