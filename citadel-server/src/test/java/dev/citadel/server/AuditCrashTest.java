package dev.citadel.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * kill -9 of the server while 16 clients are being answered: every request that got a success
 * response before the kill has its event in the audit log (the event is durable before the
 * response is sent), and the log holds no torn line but possibly the last one.
 */
class AuditCrashTest {
    @Test
    @org.junit.jupiter.api.Tag("runs-once")
    void everyAnsweredRequestsEventSurvivesKillNine() throws Exception {
        Path root = Files.createTempDirectory("citadel-audit-crash-");
        Path dataDir = root.resolve("data");
        Path acks = root.resolve("acks.txt");
        Files.createFile(acks);
        int port = ChildServer.freePort();
        Process server = ChildServer.start(dataDir, port);
        try {
            List<String> answered = ChildServer.killDuring(server, dataDir, "/acceptance/audit_crash_writer.py", acks, 300);
            assertThat(answered.size()).as("requests answered before the kill").isGreaterThanOrEqualTo(300);

            List<String> lines = Files.readAllLines(dataDir.resolve("audit").resolve("events.jsonl"), StandardCharsets.UTF_8);
            ObjectMapper json = new ObjectMapper();
            Set<String> recorded = new HashSet<>();
            for (int i = 0; i < lines.size(); i++) {
                JsonNode e;
                try {
                    e = json.readTree(lines.get(i));
                } catch (java.io.IOException torn) {
                    assertThat(i).as("only the last line may be torn by the kill").isEqualTo(lines.size() - 1);
                    continue;
                }
                recorded.add(e.path("requestID").asText());
            }
            assertThat(answered).as("answered requests whose event is missing").allMatch(recorded::contains);
        } finally {
            server.destroyForcibly().waitFor();
            ChildServer.deleteTree(root);
        }
    }
}
