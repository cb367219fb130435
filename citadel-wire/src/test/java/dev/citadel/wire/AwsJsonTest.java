package dev.citadel.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The awsJson 1.0/1.1 codec: target parsing, body decoding with its limits, output and error encoding. */
class AwsJsonTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static AwsException refusal(String body) {
        return refusal(body.getBytes(StandardCharsets.UTF_8));
    }

    private static AwsException refusal(byte[] body) {
        try {
            AwsJson.decode(body);
        } catch (AwsException e) {
            return e;
        }
        throw new AssertionError("accepted: " + new String(body, StandardCharsets.UTF_8));
    }

    private static void assertSerializationException(String body) {
        AwsException e = refusal(body);
        assertThat(e.code()).isEqualTo("SerializationException");
        assertThat(e.httpStatus()).isEqualTo(400);
    }

    @Test
    void emptyBodyIsAnEmptyObject() {
        assertThat(AwsJson.decode(new byte[0])).isEqualTo(JsonNodeFactory.instance.objectNode());
    }

    @Test
    void objectBodyDecodesToItsTree() {
        ObjectNode n = AwsJson.decode("{\"KeyId\":\"alias/a\",\"Grants\":[1,{\"x\":true}],\"N\":null}".getBytes(StandardCharsets.UTF_8));
        assertThat(n.toString()).isEqualTo("{\"KeyId\":\"alias/a\",\"Grants\":[1,{\"x\":true}],\"N\":null}");
    }

    @Test
    void truncatedJsonIsASerializationException() {
        assertSerializationException("{\"a\":");
    }

    @Test
    void invalidUtf8IsASerializationException() {
        AwsException e = refusal(new byte[] {'{', '"', 'a', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'});
        assertThat(e.code()).isEqualTo("SerializationException");
    }

    @Test
    void arrayBodyIsASerializationException() {
        AwsException e = refusal("[1]");
        assertThat(e.code()).isEqualTo("SerializationException");
        assertThat(e.getMessage()).isEqualTo("The request body must be a JSON object.");
    }

    @Test
    void scalarAndNullBodiesAreSerializationExceptions() {
        assertSerializationException("10");
        assertSerializationException("null");
        assertSerializationException("\"s\"");
        assertSerializationException("   ");
    }

    @Test
    void duplicateKeysAreASerializationException() {
        assertSerializationException("{\"a\":1,\"a\":2}");
        assertSerializationException("{\"o\":{\"b\":1,\"b\":1}}");
    }

    @Test
    void trailingContentIsASerializationException() {
        assertSerializationException("{} {}");
        assertSerializationException("{\"int\":10}abc");
    }

    @Test
    void nestingOfSixtyFourIsAcceptedAndSixtyFiveRefused() {
        assertThat(AwsJson.decode(("{\"a\":" + "[".repeat(63) + "]".repeat(63) + "}").getBytes(StandardCharsets.UTF_8)).get("a").isArray())
                .isTrue();
        assertSerializationException("{\"a\":" + "[".repeat(64) + "]".repeat(64) + "}");
    }

    @Test
    void numberOfMoreThanHundredDigitsIsASerializationException() {
        assertThat(AwsJson.decode(("{\"a\":" + "1".repeat(100) + "}").getBytes(StandardCharsets.UTF_8)).get("a").isBigInteger()).isTrue();
        assertSerializationException("{\"a\":" + "1".repeat(101) + "}");
    }

    @Test
    void numberBeyondTheRangeOfADoubleIsASerializationException() {
        assertSerializationException("{\"a\":1e400}");
        assertSerializationException("{\"a\":[{\"b\":-1e999999999}]}");
        assertThat(AwsJson.decode("{\"a\":1.7976931348623157e308}".getBytes(StandardCharsets.UTF_8)).get("a").doubleValue())
                .isEqualTo(Double.MAX_VALUE);
    }

    @Test
    void nonStandardJsonIsASerializationException() {
        assertSerializationException("{'a':1}");
        assertSerializationException("{\"a\":NaN}");
        assertSerializationException("{\"a\":1,}");
        assertSerializationException("{\"a\":1 /* c */}");
        assertSerializationException("{\"a\":0x42}");
    }

    @Test
    void targetNamesTheOperationAfterThePrefix() {
        assertThat(AwsJson.operation("TrentService.Encrypt", "TrentService")).isEqualTo("Encrypt");
        assertThat(AwsJson.operation("DynamoDB_20120810.GetItem", "DynamoDB_20120810")).isEqualTo("GetItem");
    }

    @Test
    void targetOfAnotherServiceIsAnUnknownOperation() {
        AwsException e = assertThrowsAws(() -> AwsJson.operation("OtherService.Encrypt", "TrentService"));
        assertThat(e.code()).isEqualTo("UnknownOperationException");
        assertThat(e.httpStatus()).isEqualTo(400);
    }

    @Test
    void missingEmptyOrOddTargetsAreUnknownOperations() {
        for (String target : new String[] {null, "", "TrentService", "TrentService.", "TrentServiceX.Encrypt",
                "TrentService.En-crypt", "TrentService.En.crypt", "TrentService.Encrypt ", "TrentService.Ëncrypt"}) {
            assertThat(assertThrowsAws(() -> AwsJson.operation(target, "TrentService")).code()).as(String.valueOf(target))
                    .isEqualTo("UnknownOperationException");
        }
    }

    @Test
    void outputIsTheJsonObjectWithTheRequestId() throws Exception {
        ObjectNode out = JsonNodeFactory.instance.objectNode().put("KeyId", "k").put("Size", 3);
        EncodedResponse r = AwsJson.encode(Protocol.AWS_JSON_1_1, out, "r1");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.contentType()).isEqualTo("application/x-amz-json-1.1");
        assertThat(r.headers()).isEqualTo(Map.of("x-amzn-RequestId", "r1"));
        assertThat(JSON.readTree(r.body())).isEqualTo(out);
    }

    @Test
    void nullOutputIsAnEmptyObject() {
        assertThat(new String(AwsJson.encode(Protocol.AWS_JSON_1_0, null, "r").body(), StandardCharsets.UTF_8)).isEqualTo("{}");
    }

    @Test
    void errorCarriesTypeMessageStatusAndRequestId() throws Exception {
        EncodedResponse r = AwsJson.encodeError(Protocol.AWS_JSON_1_1, new AwsException("NotFoundException", 400, "gone"), "r1", false);
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.contentType()).isEqualTo("application/x-amz-json-1.1");
        assertThat(JSON.readTree(r.body())).isEqualTo(JSON.readTree("{\"__type\":\"NotFoundException\",\"message\":\"gone\"}"));
        assertThat(r.headers()).isEqualTo(Map.of("x-amzn-RequestId", "r1"));
    }

    @Test
    void errorOfJson10HasTheJson10ContentType() {
        EncodedResponse r = AwsJson.encodeError(Protocol.AWS_JSON_1_0, new AwsException("ValidationException", 400, "bad"), "r", false);
        assertThat(r.contentType()).isEqualTo("application/x-amz-json-1.0");
    }

    @Test
    void queryCompatibleClientErrorCarriesCodeAndSender() {
        EncodedResponse r = AwsJson.encodeError(Protocol.AWS_JSON_1_0, new AwsException("Throttling", 400, "slow"), "r", true);
        assertThat(r.headers()).containsEntry("x-amzn-query-error", "Throttling;Sender").containsEntry("x-amzn-RequestId", "r");
    }

    @Test
    void queryCompatibleServerErrorCarriesCodeAndReceiver() {
        EncodedResponse r = AwsJson.encodeError(Protocol.AWS_JSON_1_0, AwsException.internal(), "r", true);
        assertThat(r.status()).isEqualTo(500);
        assertThat(r.headers()).containsEntry("x-amzn-query-error", "InternalFailure;Receiver");
    }

    @Test
    void errorMessageIsJsonEscaped() throws Exception {
        EncodedResponse r = AwsJson.encodeError(Protocol.AWS_JSON_1_1, new AwsException("X", 400, "a\"b\\c\n"), "r", false);
        JsonNode body = JSON.readTree(r.body());
        assertThat(body.get("message").asText()).isEqualTo("a\"b\\c\n");
    }

    private static AwsException assertThrowsAws(Runnable r) {
        return (AwsException) assertThatThrownBy(r::run).isInstanceOf(AwsException.class).actual();
    }

    @Test
    void targetWhosePrefixOnlyStartsLikeTheServicesIsAnUnknownOperation() {
        assertThatThrownBy(() -> AwsJson.operation("TrentServiceX.Encrypt", "TrentService"))
                .isInstanceOfSatisfying(AwsException.class, e -> assertThat(e.code()).isEqualTo("UnknownOperationException"));
    }

    @Test
    void operationOfMoreThan128CharactersIsAnUnknownOperation() {
        assertThat(AwsJson.operation("P." + "A".repeat(128), "P")).hasSize(128);
        assertThatThrownBy(() -> AwsJson.operation("P." + "A".repeat(129), "P"))
                .isInstanceOfSatisfying(AwsException.class, e -> assertThat(e.code()).isEqualTo("UnknownOperationException"));
    }

    @Test
    void nonAsciiDigitsInTheOperationAreAnUnknownOperation() {
        assertThatThrownBy(() -> AwsJson.operation("P.Op\u0661", "P")).isInstanceOf(AwsException.class);
    }

    @Test
    void encodingForAProtocolOtherThanAwsJsonIsABug() {
        assertThatThrownBy(() -> AwsJson.encode(Protocol.REST_JSON_1, null, "r")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void queryCompatibleErrorSendsTheRequestIdFirst() {
        EncodedResponse r = AwsJson.encodeError(Protocol.AWS_JSON_1_0, new AwsException("Throttling", 400, "slow"), "r", true);
        assertThat(r.headers().keySet()).containsExactly("x-amzn-RequestId", "x-amzn-query-error");
    }
}
