package dev.citadel.policy;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Fuzz target for the policy parser and the evaluation of whatever it accepts. Corpus:
 * {@code src/test/resources/dev/citadel/policy/PolicyFuzzTestInputs/parseAndEvaluate/}. A campaign:
 * {@code JAZZER_FUZZ=1 mvn -pl citadel-policy -am test -Dtest=PolicyFuzzTest -Dsurefire.failIfNoSpecifiedTests=false}.
 * Only {@link MalformedPolicyException} is an expected outcome.
 */
class PolicyFuzzTest {
    @FuzzTest(maxDuration = "60s")
    void parseAndEvaluate(byte[] input) {
        String doc = new String(input, StandardCharsets.UTF_8);
        for (PolicyParser.Kind kind : PolicyParser.Kind.values()) {
            try {
                Policy p = PolicyParser.parse(doc, kind);
                RequestFacts f = new RequestFacts("s3:GetObject", "arn:aws:s3:::b/k", "arn:aws:iam::111111111111:user/a", "111111111111", "",
                        Map.of("aws:username", List.of("a"), "aws:SourceIp", List.of("10.0.0.1")));
                PolicyEvaluator.evaluate(new PolicyEvaluator.Input(f, List.of(new PolicyEvaluator.Source("p", p)), Optional.empty(), "",
                        Optional.empty(), List.of(), List.of()));
            } catch (MalformedPolicyException expected) {
                // refusals are the expected outcome for most inputs
            }
        }
    }
}
