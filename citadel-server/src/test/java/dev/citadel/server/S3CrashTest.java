package dev.citadel.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.server.acceptance.ClientEnvironment;
import dev.citadel.server.bootstrap.ClientFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * kill -9 of a server process during 100 concurrent PUTs: after the restart every acknowledged object
 * reads back intact, and nothing partial is listed.
 */
class S3CrashTest {
    @Test
    @org.junit.jupiter.api.Tag("runs-once")
    void acknowledgedObjectsSurviveKillNineAndNothingPartialIsListed() throws Exception {
        Path root = Files.createTempDirectory("citadel-crash-");
        Path dataDir = root.resolve("data");
        Path acks = root.resolve("acks.txt");
        Files.createFile(acks);
        int port = ChildServer.freePort();
        Process server = ChildServer.start(dataDir, port);
        try {
            ClientFiles files = new ClientFiles(dataDir);
            List<String> acknowledged = ChildServer.killDuring(server, dataDir, "/acceptance/s3_crash_writer.py", acks, 200);
            assertThat(acknowledged.size()).as("acknowledged before the kill").isGreaterThanOrEqualTo(200).isLessThan(5000);

            server = ChildServer.start(dataDir, port);
            ClientEnvironment.Result r = ClientEnvironment.run(files, List.of("python3", ClientEnvironment.resourceFile("/acceptance/s3_crash_check.py").toString(), acks.toString()));
            assertThat(r.exitCode()).as(r.stderr()).isZero();
            JsonNode out = new ObjectMapper().readTree(r.stdout());
            assertThat(out.path("acked").asInt()).isEqualTo(acknowledged.size());
            assertThat(out.path("bad").size()).as("acknowledged objects that did not read back intact").isZero();
            assertThat(out.path("partial").size()).as("listed objects that were partial").isZero();
            assertThat(out.path("listed").asInt()).isGreaterThanOrEqualTo(acknowledged.size());
        } finally {
            server.destroyForcibly().waitFor();
            ChildServer.deleteTree(root);
        }
    }
}
