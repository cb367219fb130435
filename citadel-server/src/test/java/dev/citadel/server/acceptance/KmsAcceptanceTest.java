package dev.citadel.server.acceptance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.server.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** KMS driven by boto3 against a running server. */
class KmsAcceptanceTest {
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void kmsAsAwsClientsKnowIt() throws Exception {
        ClientEnvironment.Result r = ClientEnvironment.runPythonResource(server.clientFiles(), "/acceptance/boto3_kms.py");
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        JsonNode out = new ObjectMapper().readTree(r.stdout());
        assertThat(out.path("key_arn").asText()).matches("arn:aws:kms:[a-z0-9-]+:\\d{12}:key/[0-9a-f-]{36}");
        assertThat(out.path("key_state").asText()).isEqualTo("Enabled");
        assertThat(out.path("round_trip").asText()).isEqualTo("secret bytes");
        assertThat(out.path("decrypt_names_key").asBoolean()).isTrue();
        assertThat(out.path("other_context").asText()).startsWith("InvalidCiphertextException");
        assertThat(out.path("no_context").asText()).startsWith("InvalidCiphertextException");
        assertThat(out.path("tampered").asText()).startsWith("InvalidCiphertextException");
        assertThat(out.path("garbage").asText()).startsWith("InvalidCiphertextException");
        assertThat(out.path("data_key_len").asInt()).isEqualTo(32);
        assertThat(out.path("data_key_round_trip").asBoolean()).isTrue();
        assertThat(out.path("data_key_no_plaintext").asBoolean()).isTrue();
        assertThat(out.path("random_len").asInt()).isEqualTo(48);
        assertThat(out.path("too_big").asText()).startsWith("ValidationException");
        assertThat(out.path("alias_encrypt").asText()).isEqualTo("ok");
        assertThat(out.path("alias_duplicate").asText()).startsWith("AlreadyExistsException");
        assertThat(out.path("alias_missing").asText()).startsWith("NotFoundException");
        assertThat(out.path("aliases").toString()).isEqualTo("[\"alias/training\"]");
        assertThat(out.path("re_encrypt").asText()).isEqualTo("secret bytes");
        assertThat(out.path("wrong_key_id").asText()).startsWith("IncorrectKeyException");
        assertThat(out.path("old_blob_after_rotation").asText()).isEqualTo("secret bytes");
        assertThat(out.path("new_blob_after_rotation").asText()).isEqualTo("after rotation");
        assertThat(out.path("rotation_status").asBoolean()).isTrue();
        assertThat(out.path("disabled").asText()).startsWith("DisabledException");
        assertThat(out.path("pending_state").asText()).isEqualTo("PendingDeletion");
        assertThat(out.path("pending_use").asText()).startsWith("KMSInvalidStateException");
        assertThat(out.path("short_window").asText()).startsWith("ValidationException");
        assertThat(out.path("after_cancel").asText()).isEqualTo("Disabled");
        assertThat(out.path("mac_valid").asBoolean()).isTrue();
        assertThat(out.path("mac_invalid").asText()).startsWith("KMSInvalidMacException");
        assertThat(out.path("mac_key_encrypt").asText()).startsWith("InvalidKeyUsageException");
        assertThat(out.path("ecc_algorithms").toString()).isEqualTo("[\"ECDSA_SHA_256\"]");
        assertThat(out.path("ecc_verify").asBoolean()).isTrue();
        assertThat(out.path("ecc_verify_other_message").asText()).startsWith("KMSInvalidSignatureException");
        assertThat(out.path("ecc_verified_outside_kms").asBoolean()).isTrue();
        assertThat(out.path("rsa_verified_outside_kms").asBoolean()).isTrue();
        assertThat(out.path("sign_with_symmetric_key").asText()).startsWith("InvalidKeyUsageException");
        assertThat(out.path("ecc_wrong_algorithm").asText()).startsWith("InvalidKeyUsageException");
        assertThat(out.path("data_key_pair").asBoolean()).isTrue();
        assertThat(out.path("default_policy").path("AWS").asText()).endsWith(":root");
        assertThat(out.path("lockout").asText()).startsWith("MalformedPolicyDocumentException").contains("update the key policy");
        assertThat(out.path("bad_policy").asText()).startsWith("MalformedPolicyDocumentException");
        assertThat(out.path("cross_account_before").asText()).startsWith("AccessDeniedException");
        assertThat(out.path("cross_account_after").asText()).isEqualTo("ok");
        assertThat(out.path("cross_account_without_own_iam").asText()).startsWith("AccessDeniedException")
                .contains("no identity-based policy allows");
        assertThat(out.path("cross_account_encrypt").asText()).startsWith("AccessDeniedException");
        assertThat(out.path("role_before_grant").asText()).startsWith("AccessDeniedException");
        assertThat(out.path("role_with_grant").asText()).isEqualTo("ok");
        assertThat(out.path("role_outside_constraint").asText()).startsWith("AccessDeniedException");
        assertThat(out.path("role_other_operation").asText()).startsWith("AccessDeniedException");
        assertThat(out.path("grants").asBoolean()).isTrue();
        assertThat(out.path("role_after_revoke").asText()).startsWith("AccessDeniedException");
    }
}
