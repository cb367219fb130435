package dev.citadel.pipeline.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonLinesAuditLogTest {
    @TempDir
    Path dir;

    static AuditEvent event(String requestId) {
        return new AuditEvent("e-" + requestId, Instant.parse("2026-11-22T10:00:00Z"), "sts.amazonaws.com", "GetCallerIdentity",
                "us-east-1", "127.0.0.1", "aws-cli/2.9", Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.of("SignatureDoesNotMatch"), Optional.of("bad"), requestId, true, "", "TLSv1.3", "TLS_AES_128_GCM_SHA256",
                "localhost:8443", "", java.util.List.of(), true, java.util.List.of());
    }

    @Test
    void recordedEventIsOnDiskWhenRecordReturns() throws Exception {
        Path file = dir.resolve("audit/events.jsonl");
        try (JsonLinesAuditLog log = new JsonLinesAuditLog(file)) {
            log.record(event("r1"));
            List<String> lines = Files.readAllLines(file);
            assertThat(lines).hasSize(1);
            JsonNode e = new ObjectMapper().readTree(lines.getFirst());
            assertThat(e.path("eventVersion").asText()).isEqualTo("1.11");
            assertThat(e.path("requestID").asText()).isEqualTo("r1");
            assertThat(e.path("errorCode").asText()).isEqualTo("SignatureDoesNotMatch");
            assertThat(e.path("tlsDetails").path("tlsVersion").asText()).isEqualTo("TLSv1.3");
            assertThat(e.path("eventCategory").asText()).isEqualTo("Management");
        }
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    }

    /**
     * A kill -9 in the middle of a batch's write() can leave the last record cut short (Linux
     * stops a write to a regular file at a page boundary once a fatal signal is pending). Found by
     * reading the write path for CrashConsistencyTest: the next start appended its first event to
     * the torn bytes, so that event (of an acknowledged request) became one unparseable line.
     */
    @Test
    void aRecordTornByACrashIsCutOffBeforeTheNextEventIsAppended() throws Exception {
        Path file = dir.resolve("audit/events.jsonl");
        try (JsonLinesAuditLog log = new JsonLinesAuditLog(file)) {
            log.record(event("whole"));
        }
        Files.writeString(file, "{\"eventVersion\":\"1.11\",\"userIdent", java.nio.file.StandardOpenOption.APPEND);
        try (JsonLinesAuditLog log = new JsonLinesAuditLog(file)) {
            log.record(event("after-restart"));
        }
        List<String> lines = Files.readAllLines(file);
        ObjectMapper json = new ObjectMapper();
        assertThat(lines).hasSize(2);
        assertThat(json.readTree(lines.get(0)).path("requestID").asText()).isEqualTo("whole");
        assertThat(json.readTree(lines.get(1)).path("requestID").asText()).isEqualTo("after-restart");
    }

    @Test
    void aLogWhoseOnlyRecordIsTornStartsEmpty() throws Exception {
        Path file = dir.resolve("audit/events.jsonl");
        Files.createDirectories(file.getParent());
        Files.writeString(file, "{\"eventVersion\":\"1.11\",\"user");
        try (JsonLinesAuditLog log = new JsonLinesAuditLog(file)) {
            log.record(event("first"));
        }
        List<String> lines = Files.readAllLines(file);
        assertThat(lines).hasSize(1);
        assertThat(new ObjectMapper().readTree(lines.getFirst()).path("requestID").asText()).isEqualTo("first");
    }

    @Test
    void dataEventsCarryTheirCategoryAndTypedResources() throws Exception {
        Path file = dir.resolve("data-events.jsonl");
        AuditEvent base = event("r2");
        AuditEvent dataEvent = new AuditEvent(base.eventId(), base.eventTime(), "s3.amazonaws.com", "PutObject", base.awsRegion(),
                base.sourceIpAddress(), base.userAgent(), base.userIdentity(), base.requestParameters(), base.responseElements(),
                Optional.empty(), Optional.empty(), "r2", false, "111122223333", base.tlsVersion(), base.cipherSuite(),
                base.clientProvidedHostHeader(), "", java.util.List.of(AuditEvent.Resource.of("arn:aws:s3:::models/resnet/weights.bin"),
                        AuditEvent.Resource.of("arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")), false,
                java.util.List.of());
        try (JsonLinesAuditLog log = new JsonLinesAuditLog(file)) {
            log.record(dataEvent);
        }
        JsonNode e = new ObjectMapper().readTree(Files.readAllLines(file).getFirst());
        assertThat(e.path("eventCategory").asText()).isEqualTo("Data");
        assertThat(e.path("managementEvent").asBoolean()).isFalse();
        assertThat(e.path("resources").toString()).isEqualTo("[{\"type\":\"AWS::S3::Object\",\"ARN\":\"arn:aws:s3:::models/resnet/weights.bin\"},"
                + "{\"accountId\":\"111122223333\",\"type\":\"AWS::KMS::Key\","
                + "\"ARN\":\"arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab\"}]");
        assertThat(AuditEvent.Resource.of("arn:aws:s3:::models").type()).isEqualTo("AWS::S3::Bucket");
        assertThat(AuditEvent.Resource.of("arn:aws:iam::111122223333:role/trainer").type()).isEqualTo("AWS::IAM::Role");
        assertThat(AuditEvent.Resource.of("arn:aws:kms:us-east-1:111122223333:alias/models").type()).isEqualTo("AWS::KMS::Alias");
        assertThat(AuditEvent.Resource.of("arn:aws:logs:us-east-1:111122223333:log-group:/aws/sagemaker/TrainingJobs:*").type())
                .isEqualTo("AWS::Logs::LogGroup");
        assertThat(AuditEvent.Resource.of("arn:aws:logs:us-east-1:111122223333:log-group:/aws/sagemaker/TrainingJobs:log-stream:j/algo-1-1")
                .type()).isEqualTo("AWS::Logs::LogStream");
    }

    @Test
    void concurrentEventsAreAllRecordedOnePerLine() throws Exception {
        Path file = dir.resolve("events.jsonl");
        try (JsonLinesAuditLog log = new JsonLinesAuditLog(file)) {
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int id = t;
                threads.add(Thread.ofVirtual().start(() -> {
                    for (int i = 0; i < 200; i++) {
                        log.record(event(id + "-" + i));
                    }
                }));
            }
            for (Thread t : threads) {
                t.join();
            }
        }
        List<String> lines = Files.readAllLines(file);
        assertThat(lines).hasSize(1600);
        assertThat(lines.stream().map(l -> l.substring(l.indexOf("\"requestID\""))).distinct()).hasSize(1600);
    }
}
