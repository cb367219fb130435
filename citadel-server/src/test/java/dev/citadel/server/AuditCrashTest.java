package dev.citadel.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.server.acceptance.ClientEnvironment;
import dev.citadel.server.bootstrap.ClientFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
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
        Process writer = null;
        try {
            ProcessBuilder pb = new ProcessBuilder("python3", ClientEnvironment.resourceFile("/acceptance/audit_crash_writer.py").toString(),
                    acks.toString());
            pb.environment().keySet().removeIf(k -> k.startsWith("AWS_"));
            pb.environment().putAll(ClientEnvironment.variables(new ClientFiles(dataDir)));
            pb.redirectErrorStream(true).redirectOutput(root.resolve("writer.log").toFile());
            writer = pb.start();
            Instant deadline = Instant.now().plus(Duration.ofSeconds(120));
            while (Files.readAllLines(acks).size() < 300 && Instant.now().isBefore(deadline) && writer.isAlive()) {
                Thread.sleep(20);
            }
            server.destroyForcibly().waitFor();
            writer.waitFor();
            List<String> answered = Files.readAllLines(acks).stream().filter(l -> !l.isBlank()).toList();
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
            if (writer != null) {
                writer.destroyForcibly();
            }
            server.destroyForcibly().waitFor();
            try (var walk = Files.walk(root)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
