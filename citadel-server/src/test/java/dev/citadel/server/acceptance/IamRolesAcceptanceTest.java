package dev.citadel.server.acceptance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.server.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** IAM roles driven by boto3. AssumeRole itself comes with STS sessions. */
class IamRolesAcceptanceTest {
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
    void rolesWithTrustPoliciesAttachedAndInlinePolicies() throws Exception {
        ClientEnvironment.Result r = ClientEnvironment.runPythonResource(server.clientFiles(), "/acceptance/boto3_iam_roles.py");
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        JsonNode out = new ObjectMapper().readTree(r.stdout());
        assertThat(out.path("arn").asText()).matches("arn:aws:iam::\\d{12}:role/trainer");
        assertThat(out.path("trust_roundtrip").asText()).isEqualTo("sts:AssumeRole");
        assertThat(out.path("no_principal").asText()).isEqualTo("MalformedPolicyDocument: Missing required field Principal");
        assertThat(out.path("duplicate").asText()).startsWith("EntityAlreadyExists");
        assertThat(out.path("delete_with_policies").asText()).startsWith("DeleteConflict");
        assertThat(out.path("roles").toString()).contains("\"trainer\"");
        assertThat(out.path("gone").asText()).startsWith("NoSuchEntity");
    }
}
