package dev.citadel.wire;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.citadel.core.AwsException;
import java.nio.charset.StandardCharsets;

/**
 * Fuzz targets for the request decoders of untrusted input: the awsQuery form, awsJson bodies and
 * restXml bodies. Under {@code mvn test} each runs its regression corpus in
 * {@code src/test/resources/dev/citadel/wire/WireFuzzTestInputs/<method>/}. A campaign:
 * {@code JAZZER_FUZZ=1 mvn -pl citadel-wire -am test -Dtest=WireFuzzTest#<method>
 * -Dsurefire.failIfNoSpecifiedTests=false}; keep every crashing input in the corpus. Only
 * {@link AwsException} is an expected outcome.
 */
class WireFuzzTest {
    @FuzzTest(maxDuration = "60s")
    void queryForm(byte[] input) {
        try {
            AwsQuery.Request r = AwsQuery.decode(new String(input, StandardCharsets.UTF_8));
            AwsQuery.encode(r.action().replaceAll("[^A-Za-z0-9]", "X") + "A", "urn:x", r.input(), "id");
        } catch (AwsException expected) {
            // malformed forms are refused
        }
    }

    @FuzzTest(maxDuration = "60s")
    void jsonBody(byte[] input) {
        try {
            AwsJson.encode(Protocol.AWS_JSON_1_1, AwsJson.decode(input), "id");
        } catch (AwsException expected) {
            // malformed JSON is refused
        }
    }

    @FuzzTest(maxDuration = "60s")
    void xmlBody(byte[] input) {
        try {
            RestXml.read(input, 1 << 20);
        } catch (AwsException expected) {
            // malformed XML, DTDs and entities are refused
        }
    }
}
