package dev.citadel.server.acceptance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.server.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Bad input to the Organizations operations gets AWS's error and changes nothing. */
class OrganizationsInputTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static TestServer server;
    private static RawClient client;

    @BeforeAll
    static void start() {
        server = TestServer.start();
        client = new RawClient(server);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static JsonNode call(String op, String body, int status) throws Exception {
        RawClient.Reply r = client.post("organizations", RawClient.organizations(op), body);
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        return JSON.readTree(r.body());
    }

    private static int accounts() throws Exception {
        return call("ListAccounts", "{}", 200).path("Accounts").size();
    }

    @Test
    void invalidEmailIsRefusedAndCreatesNothing() throws Exception {
        int before = accounts();
        JsonNode e = call("CreateAccount", "{\"AccountName\":\"x\",\"Email\":\"not-an-email\"}", 400);
        assertThat(e.path("__type").asText()).isEqualTo("InvalidInputException");
        assertThat(e.path("message").asText()).contains("'email'").contains("regular expression");
        assertThat(accounts()).isEqualTo(before);
    }

    @Test
    void missingAccountNameIsRefused() throws Exception {
        JsonNode e = call("CreateAccount", "{\"Email\":\"a@example.com\"}", 400);
        assertThat(e.path("__type").asText()).isEqualTo("InvalidInputException");
        assertThat(e.path("message").asText()).contains("Value null at 'accountName'");
    }

    @Test
    void malformedJsonIsASerializationException() throws Exception {
        JsonNode e = call("CreateAccount", "{\"AccountName\":", 400);
        assertThat(e.path("__type").asText()).isEqualTo("SerializationException");
    }

    @Test
    void unknownOperationIsRefused() throws Exception {
        JsonNode e = call("DeleteOrganization", "{}", 400);
        assertThat(e.path("__type").asText()).isEqualTo("UnknownOperationException");
    }

    @Test
    void emailInUseFailsTheRequestWithAwsReason() throws Exception {
        call("CreateAccount", "{\"AccountName\":\"first\",\"Email\":\"dup@example.com\"}", 200);
        int before = accounts();
        JsonNode second = call("CreateAccount", "{\"AccountName\":\"second\",\"Email\":\"dup@example.com\"}", 200);
        String id = second.path("CreateAccountStatus").path("Id").asText();
        JsonNode status = call("DescribeCreateAccountStatus", "{\"CreateAccountRequestId\":\"" + id + "\"}", 200);
        assertThat(status.path("CreateAccountStatus").path("State").asText()).isEqualTo("FAILED");
        assertThat(status.path("CreateAccountStatus").path("FailureReason").asText()).isEqualTo("EMAIL_ALREADY_EXISTS");
        assertThat(accounts()).isEqualTo(before);
    }

    @Test
    void badPageTokenIsRefused() throws Exception {
        JsonNode e = call("ListAccounts", "{\"NextToken\":\"!!garbage\"}", 400);
        assertThat(e.path("__type").asText()).isEqualTo("InvalidInputException");
    }

    @Test
    void maxResultsOutOfRangeIsRefused() throws Exception {
        JsonNode e = call("ListAccounts", "{\"MaxResults\":21}", 400);
        assertThat(e.path("__type").asText()).isEqualTo("InvalidInputException");
    }

    @Test
    void unknownAccountIsNotFound() throws Exception {
        JsonNode e = call("DescribeAccount", "{\"AccountId\":\"000000000000\"}", 400);
        assertThat(e.path("__type").asText()).isEqualTo("AccountNotFoundException");
    }

    @Test
    void stsWrongVersionIsAnInvalidAction() {
        RawClient.Reply r = client.post("sts", RawClient.sts(), "Action=GetCallerIdentity&Version=2099-01-01");
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.body()).contains("<Code>InvalidAction</Code>");
    }

    @Test
    void stsUnknownActionIsAnInvalidAction() {
        RawClient.Reply r = client.post("sts", RawClient.sts(), "Action=StealEverything&Version=2011-06-15");
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.body()).contains("<Code>InvalidAction</Code>");
    }
}
