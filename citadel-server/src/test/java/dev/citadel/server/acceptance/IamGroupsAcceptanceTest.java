package dev.citadel.server.acceptance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.server.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** IAM groups driven by boto3: policies reach members through their groups, and a group's explicit Deny wins. */
class IamGroupsAcceptanceTest {
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
    void groupPoliciesAllowAndAnExplicitDenyInAGroupPolicyWins() throws Exception {
        ClientEnvironment.Result r = ClientEnvironment.runPythonResource(server.clientFiles(), "/acceptance/boto3_iam_groups.py");
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        JsonNode out = new ObjectMapper().readTree(r.stdout());
        assertThat(out.path("duplicate_group").asText()).startsWith("EntityAlreadyExists");
        assertThat(out.path("before_join").asText()).startsWith("AccessDeniedException")
                .contains("because no identity-based policy allows the organizations:ListAccounts action");
        assertThat(out.path("members").toString()).isEqualTo("[\"carol\"]");
        assertThat(out.path("groups_for_user").toString()).isEqualTo("[\"readers\"]");
        assertThat(out.path("after_join").asText()).isEqualTo("ok");
        assertThat(out.path("group_deny").asText()).startsWith("AccessDeniedException")
                .contains("with an explicit deny in the inline policy no-listing of arn:aws:iam::");
        assertThat(out.path("simulated_after_join").toString()).as("the simulator agrees with enforcement")
                .isEqualTo("[\"allowed\",\"implicitDeny\"]");
        assertThat(out.path("simulated_group_deny").toString()).isEqualTo("[\"explicitDeny\"]");
        assertThat(out.path("simulate_unknown").asText()).startsWith("NoSuchEntity");
        assertThat(out.path("delete_group_in_use").asText()).startsWith("DeleteConflict");
        assertThat(out.path("delete_user_in_group").asText()).startsWith("DeleteConflict").contains("groups");
        assertThat(out.path("group_gone").asText()).startsWith("NoSuchEntity");
    }
}
