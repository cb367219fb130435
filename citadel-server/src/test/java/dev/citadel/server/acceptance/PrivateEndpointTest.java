package dev.citadel.server.acceptance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.server.TestServer;
import dev.citadel.server.config.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A private endpoint (VPC endpoint analogue): its own listener, its id as aws:SourceVpce on every
 * request through it, and its endpoint policy bounding what may pass.
 */
class PrivateEndpointTest {
    static final String VPCE = "vpce-0123456789abcdef0";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Path policy;
    private static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        policy = Files.createTempFile("endpoint-policy", ".json");
        Files.writeString(policy, """
                {"Statement":[
                  {"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},
                  {"Effect":"Deny","Principal":"*","Action":"organizations:CreateAccount","Resource":"*"}]}""");
        server = TestServer.start("private-endpoints=" + VPCE + "@127.0.0.1:0", "private-endpoint-policies=" + VPCE + "=" + policy);
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
        Files.deleteIfExists(policy);
    }

    private static final String CREATE = "{\"AccountName\":\"through\",\"Email\":\"through-%s@example.com\"}";

    @Test
    void endpointPolicyDeniesWhatItDeniesOnlyThroughTheEndpoint() throws Exception {
        RawClient direct = new RawClient(server);
        RawClient viaEndpoint = new RawClient(server, server.citadel().privateEndpointPort(VPCE));
        RawClient.Reply refused = viaEndpoint.post("organizations", RawClient.organizations("CreateAccount"), CREATE.formatted("a"));
        assertThat(refused.status()).as(refused.body()).isEqualTo(400);
        JsonNode e = JSON.readTree(refused.body());
        assertThat(e.path("__type").asText()).isEqualTo("AccessDeniedException");
        assertThat(e.path("message").asText()).contains("organizations:CreateAccount").contains("VPC endpoint policy of " + VPCE);
        assertThat(direct.post("organizations", RawClient.organizations("CreateAccount"), CREATE.formatted("b")).status()).isEqualTo(200);
        assertThat(viaEndpoint.post("organizations", RawClient.organizations("ListAccounts"), "{}").status()).isEqualTo(200);
    }

    @Test
    void requestsThroughTheEndpointAreAuditedWithItsId() throws Exception {
        RawClient viaEndpoint = new RawClient(server, server.citadel().privateEndpointPort(VPCE));
        viaEndpoint.post("sts", RawClient.sts(), "Action=GetCallerIdentity&Version=2011-06-15");
        List<String> lines = Files.readAllLines(server.dataDir().resolve("audit/events.jsonl"));
        assertThat(lines).anySatisfy(l -> assertThat(l).contains("\"vpcEndpointId\":\"" + VPCE + "\""));
    }

    @Test
    void malformedEndpointPolicyStopsTheStart() throws Exception {
        Path bad = Files.createTempFile("bad-policy", ".json");
        Files.writeString(bad, "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}}");
        try {
            assertThatThrownBy(() -> TestServer.start("private-endpoints=" + VPCE + "@127.0.0.1:0", "private-endpoint-policies=" + VPCE + "=" + bad))
                    .isInstanceOf(ConfigException.class).hasMessageContaining("Missing required field Principal");
        } finally {
            Files.deleteIfExists(bad);
        }
    }

    @Test
    void badEndpointConfigurationIsRefused() {
        assertThatThrownBy(() -> TestServer.start("private-endpoints=vpce-x@127.0.0.1:0")).hasMessageContaining("must look like vpce-");
        assertThatThrownBy(() -> TestServer.start("private-endpoints=" + VPCE)).hasMessageContaining("vpce-id@host:port");
        assertThatThrownBy(() -> TestServer.start("private-endpoint-policies=" + VPCE + "=/tmp/p.json"))
                .hasMessageContaining("names endpoints that private-endpoints does not");
    }
}
