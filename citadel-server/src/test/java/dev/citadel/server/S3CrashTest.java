package dev.citadel.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.server.acceptance.ClientEnvironment;
import dev.citadel.server.bootstrap.ClientFiles;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * kill -9 of a server process during 100 concurrent PUTs: after the restart every acknowledged object
 * reads back intact, and nothing partial is listed.
 */
class S3CrashTest {
    private static Process startServer(Path dataDir, int port) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                "dev.citadel.server.CitadelMain", "server", "--data-dir", dataDir.toString(), "--listen", "127.0.0.1:" + port);
        pb.redirectErrorStream(true).redirectOutput(dataDir.resolveSibling(dataDir.getFileName() + ".log").toFile());
        Process p = pb.start();
        Instant deadline = Instant.now().plus(Duration.ofSeconds(90));
        while (Instant.now().isBefore(deadline)) {
            if (!p.isAlive()) {
                throw new IllegalStateException("the server process stopped: " + Files.readString(dataDir.resolveSibling(dataDir.getFileName() + ".log")));
            }
            if (Files.exists(dataDir.resolve("client/env"))) {
                try (Socket s = new Socket("127.0.0.1", port)) {
                    return p;
                } catch (IOException notYet) {
                    // keep waiting
                }
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        p.destroyForcibly();
        throw new IllegalStateException("the server did not start within 90 s");
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }


    @Test
    void acknowledgedObjectsSurviveKillNineAndNothingPartialIsListed() throws Exception {
        Path root = Files.createTempDirectory("citadel-crash-");
        Path dataDir = root.resolve("data");
        Path acks = root.resolve("acks.txt");
        Files.createFile(acks);
        int port = freePort();
        Process server = startServer(dataDir, port);
        Process writer = null;
        try {
            ClientFiles files = new ClientFiles(dataDir);
            ProcessBuilder pb = new ProcessBuilder("python3", ClientEnvironment.resourceFile("/acceptance/s3_crash_writer.py").toString(), acks.toString());
            pb.environment().keySet().removeIf(k -> k.startsWith("AWS_"));
            pb.environment().putAll(ClientEnvironment.variables(files));
            pb.redirectErrorStream(true).redirectOutput(root.resolve("writer.log").toFile());
            writer = pb.start();
            Instant deadline = Instant.now().plus(Duration.ofSeconds(120));
            while (Files.readAllLines(acks).size() < 200 && Instant.now().isBefore(deadline) && writer.isAlive()) {
                Thread.sleep(50);
            }
            server.destroyForcibly().waitFor();
            writer.waitFor();
            List<String> acknowledged = Files.readAllLines(acks);
            assertThat(acknowledged.size()).as("acknowledged before the kill").isGreaterThanOrEqualTo(200).isLessThan(5000);

            server = startServer(dataDir, port);
            ClientEnvironment.Result r = ClientEnvironment.run(files, List.of("python3", ClientEnvironment.resourceFile("/acceptance/s3_crash_check.py").toString(), acks.toString()));
            assertThat(r.exitCode()).as(r.stderr()).isZero();
            JsonNode out = new ObjectMapper().readTree(r.stdout());
            assertThat(out.path("acked").asInt()).isEqualTo(acknowledged.size());
            assertThat(out.path("bad").size()).as("acknowledged objects that did not read back intact").isZero();
            assertThat(out.path("partial").size()).as("listed objects that were partial").isZero();
            assertThat(out.path("listed").asInt()).isGreaterThanOrEqualTo(acknowledged.size());
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
