package dev.citadel.server.acceptance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.auth.SigV4Signer;
import dev.citadel.core.SecretBytes;
import dev.citadel.server.TestServer;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Requests that must be refused, each with the status and code the real service gives, and each
 * changing nothing: after all of them the organization has exactly the accounts it had before,
 * and every refusal is on the audit record.
 */
class AuthenticationRefusalTest {
    private static final String STS_BODY = "Action=GetCallerIdentity&Version=2011-06-15";
    private static final String CREATE = "{\"AccountName\":\"mallory\",\"Email\":\"mallory@example.com\"}";
    private static final String CREATE_TAMPERED = "{\"AccountName\":\"mallorz\",\"Email\":\"mallory@example.com\"}";
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

    private static int accountCount() throws Exception {
        RawClient.Reply r = client.post("organizations", RawClient.organizations("ListAccounts"), "{}");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return new ObjectMapper().readTree(r.body()).path("Accounts").size();
    }

    private static void assertQueryError(RawClient.Reply r, int status, String code) {
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        assertThat(r.body()).contains("<Code>" + code + "</Code>").contains("<RequestId>");
    }

    private static void assertJsonError(RawClient.Reply r, int status, String code) throws Exception {
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        JsonNode body = new ObjectMapper().readTree(r.body());
        assertThat(body.path("__type").asText()).isEqualTo(code);
        assertThat(r.headers()).containsKey("x-amzn-requestid");
    }

    @Test
    void validSignatureIsAccepted() {
        RawClient.Reply r = client.post("sts", RawClient.sts(), STS_BODY);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).contains("<Arn>arn:aws:iam::");
    }

    @Test
    void wrongSecretIsRefused() throws Exception {
        int before = accountCount();
        SecretBytes wrong = SecretBytes.ofUtf8("x".repeat(40));
        assertQueryError(client.post("sts", RawClient.sts(), STS_BODY, STS_BODY, client.accessKeyId, wrong, Instant.now()),
                403, "SignatureDoesNotMatch");
        assertJsonError(client.post("organizations", RawClient.organizations("CreateAccount"), CREATE, CREATE, client.accessKeyId, wrong,
                Instant.now()), 400, "InvalidSignatureException");
        assertThat(accountCount()).isEqualTo(before);
    }

    @Test
    void unknownAccessKeyIsRefused() throws Exception {
        assertQueryError(client.post("sts", RawClient.sts(), STS_BODY, STS_BODY, "AKIAUNKNOWNUNKNOWN00", client.secret, Instant.now()),
                403, "InvalidClientTokenId");
        assertJsonError(client.post("organizations", RawClient.organizations("ListAccounts"), "{}", "{}", "AKIAUNKNOWNUNKNOWN00",
                client.secret, Instant.now()), 400, "UnrecognizedClientException");
    }

    @Test
    void missingSignatureIsRefused() throws Exception {
        int before = accountCount();
        assertQueryError(client.unsigned("sts", RawClient.sts(), STS_BODY), 403, "MissingAuthenticationToken");
        assertJsonError(client.unsigned("organizations", RawClient.organizations("CreateAccount"), CREATE), 403,
                "MissingAuthenticationTokenException");
        assertThat(accountCount()).isEqualTo(before);
    }

    @Test
    void tamperedBodyIsRefused() throws Exception {
        int before = accountCount();
        assertJsonError(client.post("organizations", RawClient.organizations("CreateAccount"), CREATE, CREATE_TAMPERED,
                client.accessKeyId, client.secret, Instant.now()), 400, "InvalidSignatureException");
        assertQueryError(client.post("sts", RawClient.sts(), STS_BODY, STS_BODY.replace("2011", "2012"), client.accessKeyId,
                client.secret, Instant.now()), 403, "SignatureDoesNotMatch");
        assertThat(accountCount()).isEqualTo(before);
    }

    @Test
    void requestSignedTwentyMinutesAgoIsRefused() throws Exception {
        int before = accountCount();
        Instant old = Instant.now().minus(Duration.ofMinutes(20));
        RawClient.Reply sts = client.post("sts", RawClient.sts(), STS_BODY, STS_BODY, client.accessKeyId, client.secret, old);
        assertQueryError(sts, 403, "SignatureDoesNotMatch");
        assertThat(sts.body()).contains("Signature expired");
        RawClient.Reply org = client.post("organizations", RawClient.organizations("CreateAccount"), CREATE, CREATE, client.accessKeyId,
                client.secret, old);
        assertJsonError(org, 400, "InvalidSignatureException");
        assertThat(org.body()).contains("Signature expired");
        assertThat(accountCount()).isEqualTo(before);
    }

    @Test
    void presignedUrlWorksUntilItExpires() {
        SigV4Signer signer = new SigV4Signer(client.accessKeyId, client.secret, "us-east-1", "sts");
        String fresh = signer.presignQuery("GET", "/", STS_BODY, client.host(), 300, Instant.now());
        assertThat(client.get(fresh).status()).isEqualTo(200);
        String expired = signer.presignQuery("GET", "/", STS_BODY, client.host(), 60, Instant.now().minus(Duration.ofMinutes(5)));
        RawClient.Reply r = client.get(expired);
        assertQueryError(r, 403, "SignatureDoesNotMatch");
        assertThat(r.body()).contains("Request has expired");
    }

    @Test
    void presignedUrlValidForMoreThanSevenDaysIsRefused() {
        SigV4Signer signer = new SigV4Signer(client.accessKeyId, client.secret, "us-east-1", "sts");
        assertQueryError(client.get(signer.presignQuery("GET", "/", STS_BODY, client.host(), 604_801, Instant.now())), 400,
                "IncompleteSignature");
    }

    @Test
    void signatureVersion2IsRefused() {
        RawClient.Reply r = client.get("Action=GetCallerIdentity&Version=2011-06-15&AWSAccessKeyId=" + client.accessKeyId
                + "&SignatureVersion=2&SignatureMethod=HmacSHA256&Timestamp=2026-01-01T00%3A00%3A00Z&Signature=abc%3D");
        assertQueryError(r, 400, "IncompleteSignature");
        assertThat(r.body()).contains("AWS4-HMAC-SHA256");
    }

    @Test
    void refusedRequestsAreAudited() throws Exception {
        client.unsigned("sts", RawClient.sts(), STS_BODY);
        List<String> lines = Files.readAllLines(server.dataDir().resolve("audit/events.jsonl"));
        assertThat(lines).anySatisfy(l -> assertThat(l).contains("\"errorCode\":\"MissingAuthenticationToken\""));
        assertThat(String.join("\n", lines)).doesNotContain(client.secret.revealUtf8());
    }

    @Test
    void healthAnswersWithoutAuthenticationAndRevealsNothing() {
        RawClient.Reply r = client.send("GET", "", Map.of(), "");
        assertThat(r.status()).isEqualTo(403);
        RawClient.Reply health = healthCheck();
        assertThat(health.status()).isEqualTo(200);
        assertThat(health.body()).isEqualTo("{\"status\":\"ok\"}");
        assertThat(health.headers()).doesNotContainKey("server");
    }

    private static RawClient.Reply healthCheck() {
        try {
            var tls = javax.net.ssl.SSLContext.getInstance("TLS");
            tls.init(null, ClientEnvironment.trustManagers(server.clientFiles().caFile()), null);
            var http = java.net.http.HttpClient.newBuilder().sslContext(tls).build();
            var r = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("https://localhost:" + server.port() + "/_citadel/health")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            return new RawClient.Reply(r.statusCode(), r.body(), r.headers().map());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
