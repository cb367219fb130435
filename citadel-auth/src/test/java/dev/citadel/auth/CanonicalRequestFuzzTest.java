package dev.citadel.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * Fuzzes {@link CanonicalRequest#build} with every combination of the path rules. An input is
 * LF-separated fields: the raw path, the raw query, then header lines {@code name:value}, all of
 * them signed. Only {@link AuthException} may escape, and two properties hold: the canonical
 * query and the normalized path are fixed points (canonicalizing them again changes nothing).
 * <p>
 * Under {@code mvn test} the regression corpus in
 * {@code src/test/resources/dev/citadel/auth/CanonicalRequestFuzzTestInputs/build/} runs. A
 * campaign: {@code JAZZER_FUZZ=1 mvn -B -o -pl citadel-auth -am test -Dtest=CanonicalRequestFuzzTest
 * -Dsurefire.failIfNoSpecifiedTests=false}; keep each crash input in that directory once fixed.
 */
class CanonicalRequestFuzzTest {
    private static final int MAX_HEADERS = 16;

    @FuzzTest(maxDuration = "60s")
    void build(byte[] input) {
        String[] f = FuzzInputs.fields(input, 2 + MAX_HEADERS);
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (int i = 2; i < f.length; i++) {
            int colon = f[i].indexOf(':');
            if (colon > 0) {
                headers.computeIfAbsent(f[i].substring(0, colon), k -> new ArrayList<>()).add(f[i].substring(colon + 1));
            }
        }
        HttpRequestView view = new HttpRequestView("PUT", f[0], f[1], headers);
        TreeSet<String> signed = new TreeSet<>();
        headers.keySet().forEach(k -> signed.add(k.toLowerCase(Locale.ROOT)));
        try {
            for (boolean normalize : new boolean[] {false, true}) {
                for (boolean encode : new boolean[] {false, true}) {
                    CanonicalRequest.build(view, List.copyOf(signed), SigV4.EMPTY_SHA256, normalize, encode);
                }
            }
            String query = CanonicalRequest.canonicalQuery(f[1], false);
            assertThat(CanonicalRequest.canonicalQuery(query, false)).isEqualTo(query);
        } catch (AuthException refused) {
            // a malformed escape or too many parameters
        }
        String path = CanonicalRequest.removeDotSegments(f[0]);
        assertThat(CanonicalRequest.removeDotSegments(path)).isEqualTo(path);
    }
}
