package dev.citadel.server.acceptance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.metadata.MetadataStore;
import dev.citadel.server.TestServer;
import dev.citadel.services.logs.JobLogs;
import dev.citadel.services.logs.JobLogs.Event;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The CloudWatch Logs subset with boto3: job output written through {@link JobLogs} on a running
 * server is listed, paged forward and backward, filtered and paged again; another account sees
 * none of it (its own name finds nothing, the owner's ARN is AccessDenied); bad tokens and
 * unsupported patterns are InvalidParameterException; no stored row or file holds a message.
 */
@Tag("runs-once") // the root key's provider changes nothing here: the chunks are sealed under the secrets key either way
class LogsAcceptanceTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String GROUP = "/aws/sagemaker/TrainingJobs";

    @Test
    void jobOutputIsReadableByItsAccountOnlyAndSealedAtRest() throws Exception {
        try (TestServer server = TestServer.start()) {
            JsonNode who = phase(server, "account");
            String account = who.path("account").asText();
            JobLogs logs = server.citadel().jobLogs();
            Instant t0 = Instant.parse("2026-11-29T10:00:00Z");
            String marker = "plaintext-marker-" + java.util.UUID.randomUUID();
            String main = "train-a/algo-1-" + t0.getEpochSecond();
            String late = "train-b/algo-1-" + (t0.getEpochSecond() + 60);
            assertThat(logs.createStream(account, "us-east-1", GROUP, main)).isTrue();
            assertThat(logs.createStream(account, "us-east-1", GROUP, main)).as("made once").isFalse();
            logs.createStream(account, "us-east-1", GROUP, late);
            logs.createStream(account, "us-east-1", "/aws/sagemaker/ProcessingJobs", "prep/algo-1-" + t0.getEpochSecond());
            for (int batch = 0; batch < 5; batch++) {
                List<Event> events = new ArrayList<>();
                for (int i = batch * 50; i < batch * 50 + 50; i++) {
                    events.add(new Event(t0.plusMillis(i * 100L), "step " + i + " loss=0." + (1000 - i) + (i % 10 == 0 ? " ERROR nan seen" : "")
                            + (i % 25 == 0 ? " accuracy=0.9" : "") + " " + marker));
                }
                logs.append(account, "us-east-1", GROUP, main, events);
            }
            logs.append(account, "us-east-1", GROUP, late, List.of(new Event(t0.plusSeconds(60), "step 0 ERROR in the second job " + marker)));

            JsonNode r = phase(server, "read", main);
            assertThat(r.path("groups").toString()).isEqualTo("[[\"/aws/sagemaker/ProcessingJobs\",\"arn:aws:logs:us-east-1:" + account
                    + ":log-group:/aws/sagemaker/ProcessingJobs:*\"],[\"" + GROUP + "\",\"arn:aws:logs:us-east-1:" + account + ":log-group:"
                    + GROUP + ":*\"]]");
            assertThat(r.path("streams").toString()).isEqualTo("[\"" + late + "\",\"" + main + "\"]");
            assertThat(r.path("streams_paged").toString()).isEqualTo("[\"" + main + "\",\"" + late + "\"]");
            assertThat(r.path("first_stream_events").toString()).isEqualTo("[" + t0.plusSeconds(60).toEpochMilli() + ","
                    + t0.plusSeconds(60).toEpochMilli() + "]");
            JsonNode forward = r.path("forward");
            assertThat(forward.path("count").asInt()).isEqualTo(250);
            assertThat(forward.path("pages").asInt()).isEqualTo(8);
            assertThat(forward.path("first").asText()).startsWith("step 0 ");
            assertThat(forward.path("last").asText()).startsWith("step 249 ");
            assertThat(forward.path("in_order").asBoolean()).isTrue();
            assertThat(r.path("backward_equals_forward").asBoolean()).isTrue();
            assertThat(r.path("event_fields").toString()).isEqualTo("[\"ingestionTime\",\"message\",\"timestamp\"]");
            List<String> filtered = new ArrayList<>();
            r.path("filtered").forEach(n -> filtered.add(n.asText()));
            assertThat(filtered).hasSize(25).allMatch(m -> m.contains("ERROR") && !m.contains("step 3 "));
            assertThat(filtered.getFirst()).startsWith(main + "|step 0 ");
            assertThat(filtered.getLast()).startsWith(late + "|step 0 ERROR in the second job");
            assertThat(r.path("filtered_paginator").asInt()).as("every event has a loss").isEqualTo(250);
            assertThat(r.path("filter_fields").toString()).isEqualTo("[\"eventId\",\"ingestionTime\",\"logStreamName\",\"message\",\"timestamp\"]");
            assertThat(r.path("bad_token").asText()).isEqualTo("InvalidParameterException");
            assertThat(r.path("bad_filter_token").asText()).isEqualTo("InvalidParameterException");
            assertThat(r.path("json_pattern").asText()).isEqualTo("InvalidParameterException");
            assertThat(r.path("no_group").asText()).isEqualTo("ResourceNotFoundException");
            assertThat(r.path("no_stream").asText()).isEqualTo("ResourceNotFoundException");
            assertThat(r.path("no_put").asText()).as("there is no user-facing write").isNotEqualTo("ok");
            assertThat(r.path("member_groups").toString()).isEqualTo("[]");
            assertThat(r.path("member_by_name").asText()).isEqualTo("ResourceNotFoundException");
            assertThat(r.path("member_by_arn").asText()).isEqualTo("AccessDeniedException");
            assertThat(r.path("member_filter_by_arn").asText()).isEqualTo("AccessDeniedException");

            // Sealed at rest: the chunks are sealed blobs, and no file under the data directory holds a message.
            try (MetadataStore store = MetadataStore.open(TestServer.config(server.dataDir()).metadata())) {
                List<byte[]> payloads = store.read(h -> h.createQuery("SELECT payload FROM logs_chunks").mapTo(byte[].class).list());
                assertThat(payloads).hasSizeGreaterThanOrEqualTo(6).allSatisfy(p -> {
                    assertThat(new String(p, 0, 4, StandardCharsets.US_ASCII)).isEqualTo("CTZB");
                    assertThat(new String(p, StandardCharsets.ISO_8859_1)).doesNotContain(marker).doesNotContain("loss=0.");
                });
            }
            assertNoFileContains(server.dataDir(), marker);
        }
    }

    private static void assertNoFileContains(Path dir, String needle) throws IOException {
        try (var files = Files.walk(dir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                assertThat(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1)).as("%s holds a log message", f).doesNotContain(needle);
            }
        }
    }

    private static JsonNode phase(TestServer server, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("python3", ClientEnvironment.resourceFile("/acceptance/boto3_logs.py").toString()));
        command.addAll(List.of(args));
        ClientEnvironment.Result r = ClientEnvironment.run(server.clientFiles(), command);
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        return JSON.readTree(r.stdout());
    }
}
