package dev.citadel.server.acceptance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.server.TestServer;
import java.nio.file.Files;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** IAM users, access keys and attached policies driven by boto3, with the authorizer deciding every call. */
class IamUsersAcceptanceTest {
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
    void newUserIsDeniedUntilAPolicyIsAttachedAndLockedOutWhenItsKeyIsDeactivated() throws Exception {
        ClientEnvironment.Result r = ClientEnvironment.runPythonResource(server.clientFiles(), "/acceptance/boto3_iam_users.py");
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        JsonNode out = new ObjectMapper().readTree(r.stdout());
        assertThat(out.path("duplicate").asText()).isEqualTo("EntityAlreadyExists");
        assertThat(out.path("user_arn").asText()).matches("arn:aws:iam::\\d{12}:user/ml/bob");
        assertThat(out.path("bob_identity").asText()).isEqualTo(out.path("user_arn").asText());
        assertThat(out.path("bob_list_before").asText()).isEqualTo("AccessDeniedException");
        assertThat(out.path("bob_list_readonly").asText()).isEqualTo("ok");
        assertThat(out.path("bob_create_readonly").asText()).isEqualTo("AccessDeniedException");
        assertThat(out.path("bob_list_denied_inline").asText()).isEqualTo("AccessDeniedException");
        assertThat(out.path("inline_names").toString()).isEqualTo("[\"no-listing\"]");
        assertThat(out.path("inline_document").path("Statement").get(0).path("Effect").asText()).isEqualTo("Deny");
        assertThat(out.path("bad_inline").asText()).isEqualTo("MalformedPolicyDocument");
        assertThat(out.path("delete_with_inline").asText()).isEqualTo("DeleteConflict");
        assertThat(out.path("bob_list_after_inline").asText()).isEqualTo("ok");
        assertThat(out.path("attached").toString()).isEqualTo("[\"ReadOnlyAccess\"]");
        assertThat(out.path("unknown_policy").asText()).isEqualTo("NoSuchEntity");
        assertThat(out.path("third_key").asText()).isEqualTo("LimitExceeded");
        assertThat(out.path("delete_with_keys").asText()).isEqualTo("DeleteConflict");
        assertThat(out.path("bob_inactive").asText()).isEqualTo("InvalidClientTokenId");
        assertThat(out.path("deleted").asText()).isEqualTo("NoSuchEntity");
        assertThat(out.path("users").toString()).isEqualTo("[\"admin\"]");
        String audit = Files.readString(server.dataDir().resolve("audit/events.jsonl"));
        assertThat(out.path("secret").asText()).hasSize(40);
        assertThat(audit).contains("\"eventName\":\"CreateAccessKey\"").doesNotContain(out.path("secret").asText());
        assertThat(audit).contains("HIDDEN_DUE_TO_SECURITY_REASONS");
    }
}
