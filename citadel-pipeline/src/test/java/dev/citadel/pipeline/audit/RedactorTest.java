package dev.citadel.pipeline.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RedactorTest {
    private final ObjectMapper json = new ObjectMapper();

    @Test
    void secretsAreHiddenWhereverTheyAppear() throws Exception {
        JsonNode in = json.readTree("""
                {"UserName":"bob","AccessKey":{"AccessKeyId":"AKIA1","SecretAccessKey":"abc"},
                 "Credentials":[{"SessionToken":"tok","Expiration":"x"}],"Plaintext":"cGxhaW4="}""");
        JsonNode out = Redactor.redact(in, Set.of());
        assertThat(out.toString()).doesNotContain("abc").doesNotContain("tok").doesNotContain("cGxhaW4=");
        assertThat(out.path("AccessKey").path("SecretAccessKey").asText()).isEqualTo(Redactor.HIDDEN);
        assertThat(out.path("AccessKey").path("AccessKeyId").asText()).isEqualTo("AKIA1");
        assertThat(out.path("UserName").asText()).isEqualTo("bob");
    }

    @Test
    void declaredSensitiveMembersAreHidden() throws Exception {
        JsonNode out = Redactor.redact(json.readTree("{\"Environment\":{\"K\":\"v\"},\"Name\":\"n\"}"), Set.of("Environment"));
        assertThat(out.path("Environment").asText()).isEqualTo(Redactor.HIDDEN);
        assertThat(out.path("Name").asText()).isEqualTo("n");
    }

    @Test
    void inputIsNotModified() throws Exception {
        JsonNode in = json.readTree("{\"Password\":\"p\"}");
        Redactor.redact(in, Set.of());
        assertThat(in.path("Password").asText()).isEqualTo("p");
    }
}
