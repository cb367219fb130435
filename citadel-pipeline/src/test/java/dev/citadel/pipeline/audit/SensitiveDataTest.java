package dev.citadel.pipeline.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.pipeline.audit.SensitiveData.Kind;
import java.util.List;
import org.junit.jupiter.api.Test;

class SensitiveDataTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void eachDetectorFindsItsKindAndNotItsLookalikes() {
        assertThat(SensitiveData.scan("card 4111 1111 1111 1111 on file")).containsExactly(Kind.CARD_NUMBER);
        assertThat(SensitiveData.scan("order 4111 1111 1111 1112")).isEmpty(); // fails Luhn
        assertThat(SensitiveData.scan("run 20261130120000123")).isEmpty(); // a timestamp-like number that fails Luhn
        assertThat(SensitiveData.scan("pay GB82 WEST 1234 5698 7654 32")).containsExactly(Kind.IBAN);
        assertThat(SensitiveData.scan("GB82WEST12345698765433")).isEmpty(); // wrong check digits
        assertThat(SensitiveData.scan("key AKIAIOSFODNN7EXAMPLE")).containsExactly(Kind.AWS_ACCESS_KEY_ID);
        assertThat(SensitiveData.scan("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")).containsExactly(Kind.AWS_SECRET_ACCESS_KEY);
        assertThat(SensitiveData.scan("datasets/imagenet/train/shard-000000000000000000000000000")).isEmpty();
        assertThat(SensitiveData.scan("-----BEGIN RSA PRIVATE KEY-----\nMIIE...")).containsExactly(Kind.PRIVATE_KEY);
        assertThat(SensitiveData.scan("-----BEGIN PUBLIC KEY-----")).isEmpty();
        assertThat(SensitiveData.scan("owner jane.doe+ml@example.co.uk")).containsExactly(Kind.EMAIL_ADDRESS);
        assertThat(SensitiveData.scan("team@ml")).isEmpty();
        assertThat(SensitiveData.scan("ssn 123-45-6789")).containsExactly(Kind.NATIONAL_ID);
        assertThat(SensitiveData.scan("id 000-12-3456 and 666-12-3456 and 2026-11-30")).isEmpty();
    }

    @Test
    void onlyFreeFormFieldsAreScannedAndFindingsNameThePathNotTheValue() throws Exception {
        JsonNode input = JSON.readTree("""
                {"UserName": "jane.doe@example.com", "Tags": [{"Key": "card", "Value": "4111111111111111"}],
                 "KeyId": "AKIAIOSFODNN7EXAMPLE", "Environment": {"OWNER": "ops@example.com"},
                 "headers": {"x-amz-meta-contact": "bob@example.com", "x-amz-tagging": "who=eve%40example.com", "user-agent": "a@b.cd"}}""");
        List<SensitiveData.Finding> findings = SensitiveData.scanInput(input);
        assertThat(findings).containsExactlyInAnyOrder(
                new SensitiveData.Finding("UserName", Kind.EMAIL_ADDRESS),
                new SensitiveData.Finding("Tags[0].Value", Kind.CARD_NUMBER),
                new SensitiveData.Finding("Environment.OWNER", Kind.EMAIL_ADDRESS),
                new SensitiveData.Finding("headers.x-amz-meta-contact", Kind.EMAIL_ADDRESS),
                new SensitiveData.Finding("headers.x-amz-tagging", Kind.EMAIL_ADDRESS));
        JsonNode masked = SensitiveData.mask(input.deepCopy(), findings);
        String text = masked.toString();
        assertThat(text).doesNotContain("jane.doe@example.com", "4111111111111111", "ops@example.com", "bob@example.com", "eve%40example.com");
        assertThat(masked.path("UserName").asText()).isEqualTo(SensitiveData.HIDDEN);
        assertThat(masked.path("Tags").path(0).path("Key").asText()).isEqualTo("card");
        assertThat(masked.path("KeyId").asText()).isEqualTo("AKIAIOSFODNN7EXAMPLE"); // not a free-form field
        assertThat(masked.path("headers").path("user-agent").asText()).isEqualTo("a@b.cd");
    }

    @Test
    void s3TaggingBodiesAreScanned() {
        com.fasterxml.jackson.databind.node.ObjectNode input = JSON.createObjectNode();
        input.put("Bucket", "models");
        input.set("__body", new com.fasterxml.jackson.databind.node.POJONode(
                "<Tagging><TagSet><Tag><Key>owner</Key><Value>jane@example.com</Value></Tag></TagSet></Tagging>".getBytes(
                        java.nio.charset.StandardCharsets.UTF_8)));
        assertThat(SensitiveData.scanInput(input)).containsExactly(new SensitiveData.Finding("Tagging.TagSet.Tag.Value", Kind.EMAIL_ADDRESS));
        input.set("__body", new com.fasterxml.jackson.databind.node.POJONode("<Delete><Object><Key>jane@example.com</Key></Object></Delete>"
                .getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        assertThat(SensitiveData.scanInput(input)).as("only tagging bodies").isEmpty();
    }

    @Test
    void aSensitiveMapKeyIsMaskedToo() throws Exception {
        JsonNode input = JSON.readTree("{\"HyperParameters\": {\"jane@example.com\": \"1\"}}");
        List<SensitiveData.Finding> findings = SensitiveData.scanInput(input);
        assertThat(findings).extracting(SensitiveData.Finding::kind).containsExactly(Kind.EMAIL_ADDRESS);
        assertThat(SensitiveData.mask(input.deepCopy(), findings).toString()).doesNotContain("jane@example.com");
    }
}
