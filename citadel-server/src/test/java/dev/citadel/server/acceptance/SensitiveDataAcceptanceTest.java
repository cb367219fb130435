package dev.citadel.server.acceptance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.server.TestServer;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Sensitive data in free-form fields, with the AWS CLI v2: by default ("warn") the request goes
 * ahead and its audit event names the field and kind with the value masked; with "refuse" the
 * request gets a ValidationException that names the field, never the value, and changes nothing.
 */
class SensitiveDataAcceptanceTest {
    private static final String EMAIL = "jane.doe@example.com";

    @Test
    void warnRecordsTheFindingWithoutTheValue() throws Exception {
        try (TestServer server = TestServer.start()) {
            ClientEnvironment.Result r = aws(server, "iam", "create-user", "--user-name", "tagged", "--tags", "Key=owner,Value=" + EMAIL);
            assertThat(r.exitCode()).as(r.stderr()).isZero();
            JsonNode event = events(server).stream().filter(e -> e.path("eventName").asText().equals("CreateUser")).findFirst().orElseThrow();
            assertThat(event.path("additionalEventData").path("sensitiveDataFindings").toString())
                    .isEqualTo("[{\"field\":\"Tags[0].Value\",\"type\":\"EMAIL_ADDRESS\"}]");
            assertThat(event.path("requestParameters").path("Tags").path(0).path("Value").asText()).isEqualTo("HIDDEN_DUE_TO_SECURITY_REASONS");
            assertThat(Files.readString(server.dataDir().resolve("audit").resolve("events.jsonl"))).doesNotContain(EMAIL);
        }
    }

    @Test
    void refuseNamesTheFieldNeverTheValueAndChangesNothing() throws Exception {
        try (TestServer server = TestServer.start("audit.sensitive-data=refuse")) {
            ClientEnvironment.Result r = aws(server, "iam", "create-user", "--user-name", "tagged", "--tags", "Key=owner,Value=" + EMAIL);
            assertThat(r.exitCode()).isNotZero();
            assertThat(r.stderr()).contains("ValidationException").contains("Tags").contains("e-mail address").doesNotContain(EMAIL);
            ClientEnvironment.Result get = aws(server, "iam", "get-user", "--user-name", "tagged");
            assertThat(get.stderr()).contains("NoSuchEntity");
            assertThat(aws(server, "iam", "create-user", "--user-name", "plain", "--tags", "Key=owner,Value=vision-team").exitCode()).isZero();
            // S3 carries tags in an XML body: scanned alike.
            assertThat(aws(server, "s3api", "create-bucket", "--bucket", "tagged-bucket").exitCode()).isZero();
            ClientEnvironment.Result tagging = aws(server, "s3api", "put-bucket-tagging", "--bucket", "tagged-bucket", "--tagging",
                    "TagSet=[{Key=owner,Value=" + EMAIL + "}]");
            assertThat(tagging.exitCode()).isNotZero();
            assertThat(tagging.stderr()).contains("InvalidArgument").contains("Tagging.TagSet").doesNotContain(EMAIL);
            assertThat(aws(server, "s3api", "get-bucket-tagging", "--bucket", "tagged-bucket").stderr()).contains("NoSuchTagSet");
            assertThat(Files.readString(server.dataDir().resolve("audit").resolve("events.jsonl"))).doesNotContain(EMAIL);
        }
    }

    private static ClientEnvironment.Result aws(TestServer server, String... args) {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/aws"));
        cmd.addAll(List.of(args));
        return ClientEnvironment.run(server.clientFiles(), cmd);
    }

    private static List<JsonNode> events(TestServer server) throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(server.dataDir().resolve("audit").resolve("events.jsonl"))) {
            out.add(json.readTree(line));
        }
        return out;
    }
}
