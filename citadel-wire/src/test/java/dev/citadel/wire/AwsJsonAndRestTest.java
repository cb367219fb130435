package dev.citadel.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.core.AwsException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AwsJsonAndRestTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static String code(Runnable r) {
        try {
            r.run();
        } catch (AwsException e) {
            return e.code();
        }
        throw new AssertionError("accepted");
    }

    @Test
    void emptyBodyIsAnEmptyObject() {
        assertThat(AwsJson.decode(new byte[0]).isEmpty()).isTrue();
    }

    @Test
    void badJsonIsASerializationException() {
        assertThat(code(() -> AwsJson.decode("{\"a\":".getBytes()))).isEqualTo("SerializationException");
        assertThat(code(() -> AwsJson.decode("[1]".getBytes()))).isEqualTo("SerializationException");
        assertThat(code(() -> AwsJson.decode("{\"a\":1,\"a\":2}".getBytes()))).isEqualTo("SerializationException");
        assertThat(code(() -> AwsJson.decode("{} {}".getBytes()))).isEqualTo("SerializationException");
        assertThat(code(() -> AwsJson.decode(("{\"a\":" + "[".repeat(100) + "]".repeat(100) + "}").getBytes()))).isEqualTo("SerializationException");
        assertThat(code(() -> AwsJson.decode(("{\"a\":" + "1".repeat(200) + "}").getBytes()))).isEqualTo("SerializationException");
    }

    @Test
    void targetNamesTheOperation() {
        assertThat(AwsJson.operation("TrentService.Encrypt", "TrentService")).isEqualTo("Encrypt");
        assertThat(code(() -> AwsJson.operation("OtherService.Encrypt", "TrentService"))).isEqualTo("UnknownOperationException");
        assertThat(code(() -> AwsJson.operation(null, "TrentService"))).isEqualTo("UnknownOperationException");
        assertThat(code(() -> AwsJson.operation("TrentService.", "TrentService"))).isEqualTo("UnknownOperationException");
        assertThat(code(() -> AwsJson.operation("TrentService.En-crypt", "TrentService"))).isEqualTo("UnknownOperationException");
    }

    @Test
    void jsonErrorHasTypeAndMessage() throws Exception {
        EncodedResponse r = AwsJson.encodeError(Protocol.AWS_JSON_1_1, new AwsException("NotFoundException", 400, "gone"), "r1", false);
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.contentType()).isEqualTo("application/x-amz-json-1.1");
        JsonNode body = JSON.readTree(r.body());
        assertThat(body.path("__type").asText()).isEqualTo("NotFoundException");
        assertThat(body.path("message").asText()).isEqualTo("gone");
        assertThat(r.headers()).containsEntry("x-amzn-RequestId", "r1").doesNotContainKey("x-amzn-query-error");
    }

    @Test
    void queryCompatibleJsonErrorCarriesTheQueryErrorHeader() {
        EncodedResponse r = AwsJson.encodeError(Protocol.AWS_JSON_1_0, new AwsException("Throttling", 400, "slow"), "r", true);
        assertThat(r.headers()).containsEntry("x-amzn-query-error", "Throttling;Sender");
    }

    @Test
    void s3ErrorHasTheS3ShapeAndHeadHasNoBody() {
        EncodedResponse r = RestXml.encodeError(new AwsException("NoSuchKey", 404, "The specified key does not exist."), "req", "host", false);
        assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
                + "<Message>The specified key does not exist.</Message><RequestId>req</RequestId><HostId>host</HostId></Error>");
        assertThat(r.headers()).containsEntry("x-amz-request-id", "req").containsEntry("x-amz-id-2", "host");
        assertThat(RestXml.encodeError(new AwsException("NoSuchKey", 404, "x"), "req", "host", true).body()).isEmpty();
    }

    @Test
    void restJsonErrorNamesTheCodeInAHeader() throws Exception {
        EncodedResponse r = RestJson.encodeError(new AwsException("ModelError", 424, "boom"), "r");
        assertThat(r.headers()).containsEntry("X-Amzn-ErrorType", "ModelError");
        assertThat(JSON.readTree(r.body()).path("message").asText()).isEqualTo("boom");
    }

    @Test
    void xmlBodyReadsRepeatedElementsAsArrays() {
        JsonNode tree = RestXml.read("<Delete><Object><Key>a</Key></Object><Object><Key>b</Key></Object><Quiet>true</Quiet></Delete>"
                .getBytes(StandardCharsets.UTF_8), 1024);
        assertThat(tree.toString()).isEqualTo("{\"Delete\":{\"Object\":[{\"Key\":\"a\"},{\"Key\":\"b\"}],\"Quiet\":\"true\"}}");
    }

    @Test
    void externalEntitiesAreNeverResolved(@TempDir Path dir) throws Exception {
        Path secret = dir.resolve("secret.txt");
        Files.writeString(secret, "TOP-SECRET");
        String xxe = "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"" + secret.toUri() + "\">]><x>&e;</x>";
        assertThatThrownBy(() -> RestXml.read(xxe.getBytes(StandardCharsets.UTF_8), 4096))
                .isInstanceOfSatisfying(AwsException.class, e -> {
                    assertThat(e.code()).isEqualTo("MalformedXML");
                    assertThat(e.getMessage()).doesNotContain("TOP-SECRET");
                });
    }

    @Test
    void billionLaughsIsRefused() {
        String bomb = "<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
                + "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]><l>&c;</l>";
        assertThat(code(() -> RestXml.read(bomb.getBytes(StandardCharsets.UTF_8), 4096))).isEqualTo("MalformedXML");
    }

    @Test
    void deepOrOversizedXmlIsRefused() {
        assertThat(code(() -> RestXml.read(("<a>".repeat(40) + "</a>".repeat(40)).getBytes(StandardCharsets.UTF_8), 4096))).isEqualTo("MalformedXML");
        assertThat(code(() -> RestXml.read(new byte[5000], 4096))).isEqualTo("MalformedXML");
        assertThat(code(() -> RestXml.read("<a>".getBytes(StandardCharsets.UTF_8), 4096))).isEqualTo("MalformedXML");
    }
}
