package dev.citadel.wire;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;

/**
 * Fuzz target for the awsJson body decoder. A body either decodes to an object or is refused with
 * {@code SerializationException}; anything else escaping is a finding. A decoded body must encode
 * again, and decoding that encoding must give the same tree. Under {@code mvn test} the target runs
 * its regression corpus in {@code src/test/resources/dev/citadel/wire/AwsJsonFuzzTestInputs/body/};
 * a campaign is {@code JAZZER_FUZZ=1 mvn -pl citadel-wire -am test -Dtest=AwsJsonFuzzTest -Dsurefire.failIfNoSpecifiedTests=false}.
 */
class AwsJsonFuzzTest {
    @FuzzTest(maxDuration = "60s")
    void body(byte[] input) {
        ObjectNode tree;
        try {
            tree = AwsJson.decode(input);
        } catch (AwsException refused) {
            assertThat(refused.code()).isEqualTo("SerializationException");
            assertThat(refused.httpStatus()).isEqualTo(400);
            return;
        }
        byte[] encoded = AwsJson.encode(Protocol.AWS_JSON_1_1, tree, "id").body();
        assertThat(AwsJson.decode(encoded)).isEqualTo(tree);
    }
}
