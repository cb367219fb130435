package dev.citadel.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Citadel's identity-policy validation against the verdicts and {@code MalformedPolicyDocument}
 * messages recorded in moto's {@code tests/test_iam/test_iam_policies.py} (Apache-2.0), which moto
 * took from what AWS IAM answers to {@code CreatePolicy}. The documents and messages are data in
 * {@code src/test/resources/moto-policies/moto-iam-policies.json}; see the README there.
 */
class MotoPolicyDocumentsTest {
    private static final String RESOURCE = "/moto-policies/moto-iam-policies.json";

    /**
     * Cases deliberately not held to moto's verdict, by kind and index, each with the reason.
     * Empty: every moto case is checked.
     */
    private static final Map<String, String> EXCLUSIONS = Map.of();

    private static JsonNode data() {
        try (InputStream in = MotoPolicyDocumentsTest.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + RESOURCE);
            }
            return new ObjectMapper().readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Stream<JsonNode> cases(String kind) {
        return StreamSupport.stream(data().get(kind).spliterator(), false)
                .filter(c -> !EXCLUSIONS.containsKey(kind + "#" + c.get("index").asInt()));
    }

    static Stream<Arguments> validDocuments() {
        return cases("valid").map(c -> Arguments.of("valid#" + c.get("index").asInt(), c.get("document").asText()));
    }

    static Stream<Arguments> invalidDocuments() {
        return cases("invalid").map(c -> Arguments.of("invalid#" + c.get("index").asInt(), c.get("document").asText(),
                c.get("errorMessage").asText()));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("validDocuments")
    void validDocumentParses(String name, String document) {
        assertThatCode(() -> PolicyParser.parse(document, PolicyParser.Kind.IDENTITY)).as(name).doesNotThrowAnyException();
    }

    @ParameterizedTest(name = "{0}: {2} <- {1}")
    @MethodSource("invalidDocuments")
    void invalidDocumentIsRefusedWithIamMessage(String name, String document, String message) {
        MalformedPolicyException e = catchThrowableOfType(MalformedPolicyException.class,
                () -> PolicyParser.parse(document, PolicyParser.Kind.IDENTITY));
        assertThat(e).as("%s should be refused with %s", name, message).isNotNull();
        assertThat(e.getMessage()).as(name).isEqualTo(message);
    }

    @Test
    void theDataIsAllThere() {
        JsonNode d = data();
        assertThat(d.get("valid").size()).isEqualTo(54);
        assertThat(d.get("invalid").size()).isEqualTo(78);
        assertThat(EXCLUSIONS.keySet()).allMatch(k -> k.matches("(valid|invalid)#\\d+"));
    }
}
