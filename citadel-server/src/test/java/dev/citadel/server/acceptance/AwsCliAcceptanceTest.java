package dev.citadel.server.acceptance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.server.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The AWS CLI v2 from Debian ({@code /usr/bin/aws}) against a running Citadel, with nothing but
 * the environment of {@code client/env}.
 */
class AwsCliAcceptanceTest {
    static final Path AWS_CLI_V2 = Path.of("/usr/bin/aws");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static TestServer server;

    @BeforeAll
    static void start() {
        assertThat(AWS_CLI_V2).as("AWS CLI v2 missing: run ./citadel test (it installs Debian's awscli) or apt-get install awscli")
                .isExecutable();
        server = TestServer.start();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static JsonNode aws(String... args) {
        List<String> cmd = new ArrayList<>(List.of(AWS_CLI_V2.toString()));
        cmd.addAll(List.of(args));
        cmd.addAll(List.of("--output", "json"));
        ClientEnvironment.Result r = ClientEnvironment.run(server.clientFiles(), cmd);
        assertThat(r.exitCode()).as("aws %s failed: %s", String.join(" ", args), r.stderr()).isZero();
        try {
            return JSON.readTree(r.stdout());
        } catch (java.io.IOException e) {
            throw new AssertionError("aws printed no JSON: " + r.stdout(), e);
        }
    }

    @Test
    void cliIsVersion2() {
        ClientEnvironment.Result r = ClientEnvironment.run(server.clientFiles(), List.of(AWS_CLI_V2.toString(), "--version"));
        assertThat(r.stdout() + r.stderr()).startsWith("aws-cli/2.");
    }

    @Test
    void managedPolicyVersionsSessionTokensAndTheOrganizationRoot() {
        String document = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iam:List*\",\"Resource\":\"*\"}]}";
        JsonNode policy = aws("iam", "create-policy", "--policy-name", "cli-lister", "--policy-document", document).path("Policy");
        assertThat(policy.path("DefaultVersionId").asText()).isEqualTo("v1");
        JsonNode version = aws("iam", "get-policy-version", "--policy-arn", policy.path("Arn").asText(), "--version-id", "v1");
        assertThat(version.path("PolicyVersion").path("Document").path("Statement").get(0).path("Action").asText()).isEqualTo("iam:List*");
        JsonNode credentials = aws("sts", "get-session-token", "--duration-seconds", "900").path("Credentials");
        assertThat(credentials.path("AccessKeyId").asText()).startsWith("ASIA");
        assertThat(credentials.path("SessionToken").asText()).isNotEmpty();
        assertThat(aws("organizations", "list-roots").path("Roots").get(0).path("Id").asText()).startsWith("r-");
    }

    @Test
    void kmsEncryptDecryptAndAliases() {
        String keyId = aws("kms", "create-key", "--description", "cli").path("KeyMetadata").path("KeyId").asText();
        aws("kms", "create-alias", "--alias-name", "alias/cli", "--target-key-id", keyId);
        JsonNode encrypted = aws("kms", "encrypt", "--key-id", "alias/cli", "--plaintext", "aGVsbG8=", "--encryption-context", "purpose=cli");
        JsonNode decrypted = aws("kms", "decrypt", "--ciphertext-blob", encrypted.path("CiphertextBlob").asText(), "--encryption-context",
                "purpose=cli");
        assertThat(decrypted.path("Plaintext").asText()).isEqualTo("aGVsbG8=");
        assertThat(aws("kms", "list-aliases", "--key-id", keyId).path("Aliases").get(0).path("AliasName").asText()).isEqualTo("alias/cli");
    }

    @Test
    void getCallerIdentityWorksWithTheWrittenFilesAlone() {
        JsonNode me = aws("sts", "get-caller-identity");
        assertThat(me.path("Account").asText()).matches("\\d{12}");
        assertThat(me.path("Arn").asText()).endsWith(":user/admin");
    }

    @Test
    void createAccountAndListAccounts() {
        JsonNode created = aws("organizations", "create-account", "--account-name", "cli-research", "--email", "cli@example.com");
        String requestId = created.path("CreateAccountStatus").path("Id").asText();
        JsonNode status = aws("organizations", "describe-create-account-status", "--create-account-request-id", requestId);
        assertThat(status.path("CreateAccountStatus").path("State").asText()).isEqualTo("SUCCEEDED");
        String accountId = status.path("CreateAccountStatus").path("AccountId").asText();

        JsonNode list = aws("organizations", "list-accounts");
        List<String> ids = new ArrayList<>();
        list.path("Accounts").forEach(a -> ids.add(a.path("Id").asText()));
        assertThat(ids).contains(accountId, aws("sts", "get-caller-identity").path("Account").asText());
    }

    @Test
    void clientFilesAreOwnerOnly() throws Exception {
        for (Path p : List.of(server.clientFiles().credentialsFile(), server.clientFiles().configFile(),
                server.clientFiles().caFile(), server.clientFiles().envFile())) {
            assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(p)))
                    .as(p.toString()).isEqualTo("rw-------");
        }
    }
}
