package dev.citadel.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.core.AwsException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The restJson1 codec: structured bodies decoded with the awsJson limits, JSON and raw-payload
 * responses, and the error shape (the code in {@code X-Amzn-ErrorType}, the message in the body, as
 * botocore's RestJSONParser reads them).
 */
class RestJsonTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void emptyBodyDecodesToAnEmptyObject() {
        assertThat(RestJson.decode(new byte[0]).isEmpty()).isTrue();
    }

    @Test
    void objectBodyDecodesToItsTree() {
        assertThat(RestJson.decode("{\"a\":[1,{\"b\":null}]}".getBytes(StandardCharsets.UTF_8)).toString()).isEqualTo("{\"a\":[1,{\"b\":null}]}");
    }

    @Test
    void bodyThatIsNotAJsonObjectIsASerializationException() {
        for (String body : new String[] {"[1]", "{", "\"s\"", "{\"a\":1,\"a\":2}"}) {
            assertThatThrownBy(() -> RestJson.decode(body.getBytes(StandardCharsets.UTF_8)))
                    .as(body)
                    .isInstanceOfSatisfying(AwsException.class, e -> {
                        assertThat(e.code()).isEqualTo("SerializationException");
                        assertThat(e.httpStatus()).isEqualTo(400);
                    });
        }
    }

    @Test
    void outputIsJsonWithTheRequestIdFirstThenExtraHeaders() throws Exception {
        EncodedResponse r = RestJson.encode(201, JSON.readTree("{\"Name\":\"e\"}"), "req-1", Map.of("x-amzn-Invoked-Production-Variant", "v1"));
        assertThat(r.status()).isEqualTo(201);
        assertThat(r.contentType()).isEqualTo("application/json");
        assertThat(r.headers().entrySet()).containsExactly(Map.entry("x-amzn-RequestId", "req-1"),
                Map.entry("x-amzn-Invoked-Production-Variant", "v1"));
        assertThat(JSON.readTree(r.body())).isEqualTo(JSON.readTree("{\"Name\":\"e\"}"));
    }

    @Test
    void nullOutputIsAnEmptyObjectWithStatus200() {
        EncodedResponse r = RestJson.encode(null, "r");
        assertThat(r.status()).isEqualTo(200);
        assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo("{}");
    }

    @Test
    void payloadResponseKeepsItsContentTypeAndBytes() {
        byte[] payload = {0, 1, 2, (byte) 0xff};
        EncodedResponse r = RestJson.encodePayload(200, "application/octet-stream", payload, "r", Map.of());
        assertThat(r.contentType()).isEqualTo("application/octet-stream");
        assertThat(r.body()).containsExactly(0, 1, 2, 0xff);
        assertThat(r.headers()).containsExactly(Map.entry("x-amzn-RequestId", "r"));
    }

    @Test
    void errorNamesTheCodeInXAmznErrorType() {
        EncodedResponse r = RestJson.encodeError(new AwsException("ModelError", 424, "boom"), "r");
        assertThat(r.headers().entrySet()).containsExactly(Map.entry("X-Amzn-ErrorType", "ModelError"), Map.entry("x-amzn-RequestId", "r"));
    }

    @Test
    void errorBodyCarriesOnlyTheMessage() throws Exception {
        EncodedResponse r = RestJson.encodeError(new AwsException("ModelError", 424, "boom"), "r");
        assertThat(JSON.readTree(r.body())).isEqualTo(JSON.readTree("{\"message\":\"boom\"}"));
    }

    @Test
    void errorHasTheStatusAndJsonContentType() {
        EncodedResponse r = RestJson.encodeError(new AwsException("ServiceUnavailable", 503, "later"), "r");
        assertThat(r.status()).isEqualTo(503);
        assertThat(r.contentType()).isEqualTo("application/json");
    }
}
