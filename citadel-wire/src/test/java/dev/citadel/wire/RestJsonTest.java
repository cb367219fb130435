package dev.citadel.wire;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.core.AwsException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The restJson1 error shape: the code in {@code X-Amzn-ErrorType}, the message in the body, as botocore's RestJSONParser reads them. */
class RestJsonTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void errorNamesTheCodeInXAmznErrorType() {
        EncodedResponse r = RestJson.encodeError(new AwsException("ModelError", 424, "boom"), "r");
        assertThat(r.headers()).isEqualTo(Map.of("X-Amzn-ErrorType", "ModelError", "x-amzn-RequestId", "r"));
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
