package dev.citadel.pipeline.audit;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Fuzz target for the sensitive-data detectors over request input: scanning never fails, and
 * once the findings are masked a second scan finds nothing. Corpus:
 * {@code src/test/resources/dev/citadel/pipeline/audit/SensitiveDataFuzzTestInputs/scanAndMask/}.
 * A campaign: {@code JAZZER_FUZZ=1 mvn -pl citadel-pipeline -am test -Dtest=SensitiveDataFuzzTest
 * -Dsurefire.failIfNoSpecifiedTests=false}.
 */
class SensitiveDataFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @FuzzTest(maxDuration = "20s")
    void scanAndMask(FuzzedDataProvider data) {
        JsonNode input = JSON.createObjectNode();
        String member = data.pickValue(new String[] {"Description", "Tags", "UserName", "Environment", "KeyId", "HyperParameters"});
        String value = data.consumeRemainingAsString();
        try {
            input = JSON.readTree("{\"" + member + "\":" + JSON.writeValueAsString(value) + ",\"Tags\":[{\"Key\":\"k\",\"Value\":"
                    + JSON.writeValueAsString(value) + "}],\"Environment\":{" + JSON.writeValueAsString(value) + ":\"v\"}}");
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
        var findings = SensitiveData.scanInput(input);
        JsonNode masked = SensitiveData.mask(input.deepCopy(), findings);
        if (!SensitiveData.scanInput(masked).isEmpty()) {
            throw new AssertionError("masking left a finding: " + SensitiveData.scanInput(masked));
        }
    }
}
