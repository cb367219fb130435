package dev.citadel.server.acceptance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.server.Citadel;
import dev.citadel.server.TestServer;
import dev.citadel.services.cloudtrail.TrailVerifier;
import java.nio.file.Files;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The audit issue's delivery acceptance: a trail delivers gzip log files and signed digest files
 * into its bucket, and the machine Python's AWS CLI v1 ({@code aws cloudtrail validate-logs},
 * reaching Citadel through AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL_CLOUDTRAIL) finds every file
 * valid; after one log file is changed and another deleted, it reports exactly those two, and so
 * does the offline {@code citadel audit verify}. Event selectors decide the data events; the
 * operator trail cannot be stopped, changed or deleted; a bucket that refuses CloudTrail shows in
 * the trail's status.
 */
class CloudTrailDeliveryAcceptanceTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void validateLogsFindsEveryFileValidThenExactlyTheChangedOnes() throws Exception {
        String start = Instant.now().minus(5, ChronoUnit.MINUTES).truncatedTo(ChronoUnit.SECONDS).toString();
        try (TestServer server = TestServer.start("audit.delivery-interval=1s", "audit.digest-interval=2s")) {
            JsonNode setup = phase(server, "setup");
            String trail = setup.path("trail_arn").asText();
            assertThat(setup.path("refused_call").asText()).isEqualTo("AccessDenied");
            assertThat(setup.path("operator_trail").toString()).isEqualTo("[\"arn:aws:cloudtrail:us-east-1:" + setup.path("account").asText()
                    + ":trail/citadel-operator\",true,true]");
            for (String refused : List.of("operator_stop", "operator_delete", "operator_update", "operator_selectors")) {
                assertThat(setup.path(refused).asText()).as(refused).isEqualTo("OperationNotPermittedException");
            }
            assertThat(setup.path("operator_logging").asBoolean()).isTrue();
            Thread.sleep(5_000); // a delivery interval and two digest intervals: the setup's events are in delivered, digested files

            JsonNode status = phase(server, "status");
            for (int i = 0; i < 30 && !status.path("delivered_status").toString().equals("[\"\",true,true]"); i++) {
                Thread.sleep(2_000); // a loaded machine delivers late, never not at all
                status = phase(server, "status");
            }
            assertThat(status.path("refused_status").toString()).isEqualTo("[\"AccessDenied\",false]");
            assertThat(status.path("delivered_status").toString()).isEqualTo("[\"\",true,true]");

            JsonNode records = phase(server, "records").path("records");
            for (int i = 0; i < 30 && !records.toString().contains("\"GetObject\""); i++) {
                Thread.sleep(2_000);
                records = phase(server, "records").path("records");
            }
            List<String> names = new ArrayList<>();
            records.forEach(r -> names.add(r.path("eventName").asText() + " " + r.path("resources").path(0).path("ARN").asText("")));
            String trailResource = " " + trail;
            // Logging starts with StartLogging (CreateTrail and PutEventSelectors came before it).
            assertThat(names).contains("StartLogging" + trailResource, "DescribeTrails ", "ListBuckets ",
                    "PutObject arn:aws:s3:::selected-data/train.csv", "GetObject arn:aws:s3:::selected-data/train.csv",
                    "CreateBucket arn:aws:s3:::unselected-data");
            // Data events only where the selectors name the bucket; management events always.
            assertThat(names).doesNotContain("PutObject arn:aws:s3:::unselected-data/train.csv", "GetObject arn:aws:s3:::unselected-data/train.csv");
            assertThat(records.toString()).contains("\"errorCode\":\"AccessDenied\"").doesNotContain(setup.path("no_rights_secret").asText());
            String admin = Files.readString(server.clientFiles().credentialsFile());
            String adminSecret = admin.substring(admin.indexOf("aws_secret_access_key") + "aws_secret_access_key".length()).replaceAll("^[\\s=]+", "")
                    .split("\\s")[0];
            assertThat(adminSecret).hasSizeGreaterThan(20);
            assertThat(records.toString()).doesNotContain(adminSecret);

            // Two log files at least are needed below (one to change, one to delete): on a loaded machine the
            // setup's events may all share one; more calls, a delivery interval apart, make more (60 s at most).
            ClientEnvironment.Result valid = validateLogs(server, trail, start);
            for (int i = 0; i < 30 && (valid.exitCode() != 0 || lines(valid.stdout(), "Log file\t").size() < 2); i++) {
                phase(server, "status");
                Thread.sleep(2_000);
                valid = validateLogs(server, trail, start);
            }
            assertThat(valid.exitCode()).as(valid.stdout() + valid.stderr()).isZero();
            List<String> logFiles = lines(valid.stdout(), "Log file\t");
            assertThat(logFiles).hasSizeGreaterThanOrEqualTo(2).allSatisfy(l -> assertThat(l).endsWith("\tvalid"));
            assertThat(lines(valid.stdout(), "Digest file\t")).hasSizeGreaterThanOrEqualTo(2).allSatisfy(l -> assertThat(l).endsWith("\tvalid"));
            assertThat(valid.stderr()).doesNotContain("INVALID");
            ClientEnvironment.Result operator = validateLogs(server, setup.path("operator_trail").get(0).asText(), start);
            assertThat(operator.exitCode()).as(operator.stdout() + operator.stderr()).isZero();
            assertThat(lines(operator.stdout(), "Log file\t")).isNotEmpty();

            String changed = objectKey(logFiles.get(0));
            String deleted = objectKey(logFiles.get(1));
            phase(server, "tamper", changed, deleted);
            ClientEnvironment.Result invalid = validateLogs(server, trail, start);
            assertThat(invalid.exitCode()).as(invalid.stdout() + invalid.stderr()).isEqualTo(1);
            String bucket = "s3://" + setup.path("bucket").asText() + "/";
            assertThat(lines(invalid.stderr(), "")).filteredOn(l -> l.contains("INVALID")).containsExactlyInAnyOrder(
                    "Log file\t" + bucket + changed + "\tINVALID: hash value doesn't match",
                    "Log file\t" + bucket + deleted + "\tINVALID: not found");

            server.stop();
            try (Citadel.Offline offline = Citadel.openOffline(TestServer.config(server.dataDir()))) {
                TrailVerifier.Report report = new TrailVerifier(offline.store(), offline.s3()).verify(trail);
                assertThat(report.lines()).filteredOn(l -> l.contains("INVALID")).containsExactlyInAnyOrder(
                        "Log file\t" + bucket + changed + "\tINVALID: hash value doesn't match",
                        "Log file\t" + bucket + deleted + "\tINVALID: not found");
                assertThat(report.digestsInvalid()).isZero();
                assertThat(report.digestsValid()).isGreaterThanOrEqualTo(2);
                TrailVerifier.Report all = new TrailVerifier(offline.store(), offline.s3()).verify("");
                assertThat(all.logsInvalid()).isEqualTo(2);
                assertThat(all.logsValid()).isGreaterThan(report.logsValid());
            }
        }
    }

    private static JsonNode phase(TestServer server, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("python3", ClientEnvironment.resourceFile("/acceptance/boto3_cloudtrail_delivery.py")
                .toString()));
        command.addAll(List.of(args));
        ClientEnvironment.Result r = ClientEnvironment.run(server.clientFiles(), command);
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        return JSON.readTree(r.stdout());
    }

    /** The stock CLI v1 of the machine's Python, pointed at Citadel for S3 and CloudTrail only, as the issue asks. */
    private static ClientEnvironment.Result validateLogs(TestServer server, String trailArn, String start) {
        String endpoint = ClientEnvironment.variables(server.clientFiles()).get("AWS_ENDPOINT_URL");
        return ClientEnvironment.run(server.clientFiles(), List.of("python3", "-m", "awscli", "cloudtrail", "validate-logs", "--trail-arn", trailArn,
                "--start-time", start, "--verbose"), Map.of("AWS_ENDPOINT_URL", "", "AWS_ENDPOINT_URL_S3", endpoint,
                "AWS_ENDPOINT_URL_CLOUDTRAIL", endpoint));
    }

    private static List<String> lines(String text, String prefix) {
        return text.lines().filter(l -> l.startsWith(prefix) && !l.isBlank()).toList();
    }

    /** The key of a {@code Log file<TAB>s3://bucket/key<TAB>status} line. */
    private static String objectKey(String line) {
        String uri = line.split("\t")[1];
        return uri.substring(uri.indexOf('/', "s3://".length()) + 1);
    }
}
