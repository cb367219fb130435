package dev.citadel.server.acceptance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.server.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** boto3 (the machine's Python) against a running Citadel, with nothing but the environment of {@code client/env}. */
class Boto3AcceptanceTest {
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
    void getCallerIdentityCreateAccountAndListAccounts() throws Exception {
        ClientEnvironment.Result r = ClientEnvironment.runPythonResource(server.clientFiles(), "/acceptance/boto3_foundation.py");
        assertThat(r.exitCode()).as("boto3 script failed (python3 with boto3 is expected on this machine): %s", r.stderr()).isZero();
        JsonNode out = new ObjectMapper().readTree(r.stdout());
        assertThat(out.path("caller").path("Account").asText()).matches("\\d{12}");
        assertThat(out.path("created").path("State").asText()).isEqualTo("SUCCEEDED");
        assertThat(out.path("accounts").toString()).contains(out.path("created").path("AccountId").asText());
        assertThat(out.path("denied").asText()).isEqualTo("SignatureDoesNotMatch");
    }
}
