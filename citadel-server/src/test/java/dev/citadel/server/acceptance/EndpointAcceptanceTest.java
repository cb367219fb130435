package dev.citadel.server.acceptance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.server.TestServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The inference issue's acceptance with boto3: the scikit-learn model trained in Citadel is
 * deployed behind an endpoint of two variants weighted 1:3 whose containers have no network;
 * predictions match the model's own; traffic follows the weights; every successful call is captured
 * (DataCaptureConfig at 100 %) into S3 objects sealed under the capture key, written as the
 * model's role, with no captured data in the audit log; a killed container is replaced;
 * an update switches with no failed call; bad calls get AWS's error shapes and the endpoint keeps
 * serving; a deleted endpoint leaves no container running.
 */
@Tag("runs-once")
class EndpointAcceptanceTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void deployInvokeRecoverUpdateAndDelete() throws Exception {
        Path work = Files.createTempDirectory("citadel-endpoints-");
        try (TestServer server = TestServer.start("endpoints.invocation-timeout=5s", "endpoints.capture-flush=1s")) {
            String image = TrainerPush.push(server, work, "sklearn-serve");
            phase(server, "boto3_training.py", "setup", image);
            JsonNode trained = phase(server, "boto3_endpoints.py", "train", image);
            assertThat(trained.path("status").asText()).isEqualTo("Completed");
            String artifacts = trained.path("artifacts").asText();

            JsonNode deployed = phase(server, "boto3_endpoints.py", "deploy", image, artifacts);
            assertThat(deployed.path("status").toString()).isEqualTo("[\"InService\",\"\"]");
            assertThat(deployed.path("variants").toString()).isEqualTo("[[\"A\",1.0,1],[\"B\",3.0,1]]");
            assertThat(deployed.path("hangs").asText()).isEqualTo("InService");
            assertThat(deployed.path("bad_model").asText()).isEqualTo("ValidationException");
            assertThat(deployed.path("bad_config").asText()).isEqualTo("ValidationException");
            assertThat(deployed.path("listed").toString()).isEqualTo("[\"hangs\",\"logistic\"]");
            String captureKey = deployed.path("capture_key").asText();
            assertThat(deployed.path("capture").toString()).isEqualTo("{\"EnableCapture\":true,\"CaptureStatus\":\"Started\","
                    + "\"CurrentSamplingPercentage\":100,\"DestinationS3Uri\":\"" + deployed.path("capture_uri").asText()
                    + "\",\"KmsKeyId\":\"" + captureKey + "\"}");

            JsonNode invoked = phase(server, "boto3_endpoints.py", "invoke", artifacts);
            assertThat(invoked.path("predictions")).isEqualTo(invoked.path("expected"));
            assertThat(invoked.path("json_predictions")).isEqualTo(invoked.path("expected"));
            int a = invoked.path("shares").path("A").asInt();
            int b = invoked.path("shares").path("B").asInt();
            assertThat(a + b).isEqualTo(400);
            assertThat(a).as("weight 1 of 4 over 400 calls").isBetween(70, 130);
            assertThat(invoked.path("targeted").asText()).isEqualTo("A");
            assertThat(invoked.path("missing_endpoint").asText()).isEqualTo("ValidationError");
            assertThat(invoked.path("too_large").asText()).isIn("RequestEntityTooLarge", "ValidationError");
            assertThat(invoked.path("wrong_type").asText()).isEqualTo("ModelError");
            assertThat(invoked.path("unknown_variant").asText()).isEqualTo("ValidationError");
            assertThat(invoked.path("hanging").asText()).isEqualTo("ModelError");
            assertThat(invoked.path("hanging_seconds").asDouble()).isBetween(4.0, 7.9);
            assertThat(invoked.path("still_serving").asText()).isIn("0", "1", "0.0", "1.0");

            JsonNode captured = phase(server, "boto3_endpoints.py", "captures");
            assertThat(captured.path("records").asInt()).as("the 404 successful calls, no failed one").isEqualTo(404);
            assertThat(captured.path("distinct_event_ids").asInt()).isEqualTo(404);
            assertThat(captured.path("layout").toString()).as("<prefix>/<endpoint>/<variant>/yyyy/MM/dd/HH/mm-ss-SSS-<uuid>.jsonl")
                    .isEqualTo("[true]");
            assertThat(captured.path("variants").toString()).isEqualTo("[\"A\",\"B\"]");
            assertThat(captured.path("sse").toString()).as("sealed under the capture key").isEqualTo("[[\"aws:kms\",\"" + captureKey + "\"]]");
            assertThat(captured.path("event_versions").toString()).isEqualTo("[\"0\"]");
            assertThat(captured.path("first_count").asInt()).isEqualTo(1);
            assertThat(captured.path("first_input").toString()).isEqualTo("[\"text/csv\",\"INPUT\",\"CSV\",true]");
            assertThat(captured.path("first_output").toString()).isEqualTo("[\"OUTPUT\",\"CSV\"]");
            assertThat(captured.path("first_predictions")).isEqualTo(invoked.path("predictions"));
            assertThat(captured.path("first_time").asText()).matches("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z");
            assertThat(captured.path("json_records").toString()).isEqualTo("[[\"JSON\",50,\"JSON\"]]");
            assertThat(captured.path("describe")).isEqualTo(deployed.path("capture"));
            String audit = Files.readString(server.dataDir().resolve("audit/events.jsonl"));
            assertThat(audit).as("no captured data in the audit log").doesNotContain(captured.path("sample_row").asText());
            long captureWrites = audit.lines().map(EndpointAcceptanceTest::json).filter(e -> e.path("eventName").asText().equals("PutObject")
                    && e.path("requestParameters").path("Key").asText().startsWith("capture/logistic/")
                    && e.path("userIdentity").path("arn").asText().endsWith(":assumed-role/CitadelSageMakerRole/SageMaker")
                    && !e.has("errorCode")).count();
            assertThat(captureWrites).as("captures are written as the model's role").isPositive();

            JsonNode transformed = phase(server, "boto3_endpoints.py", "transform", artifacts);
            assertThat(transformed.path("status").toString()).isEqualTo("[\"Completed\",\"\"]");
            assertThat(transformed.path("same").toString()).isEqualTo("{\"part-1.csv\":true,\"part-2.csv\":true}");
            assertThat(transformed.path("sse").asText()).isEqualTo(transformed.path("key").asText());
            assertThat(transformed.path("listed").toString()).isEqualTo("[\"batch-logistic\"]");

            // A serving container killed mid-load is replaced; calls succeed again afterwards.
            CompletableFuture<JsonNode> load = CompletableFuture.supplyAsync(() -> {
                try {
                    return phase(server, "boto3_endpoints.py", "load", "40");
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            Thread.sleep(5000);
            List<String> serving = runcContainers(server.dataDir());
            assertThat(serving).as("three serving containers: A, B and the hanging model").hasSize(3);
            List<String> logistic = new ArrayList<>();
            phase(server, "boto3_endpoints.py", "containers").path("runs").forEach(n -> logistic.add(n.asText()));
            String victim = serving.stream().filter(logistic::contains).findFirst().orElseThrow();
            Process kill = new ProcessBuilder("runc", "--root", server.dataDir().resolve("sandbox/state").toString(), "kill", "--all",
                    victim, "KILL").redirectErrorStream(true).start();
            assertThat(kill.waitFor(30, TimeUnit.SECONDS)).isTrue();
            JsonNode loaded = load.get(120, TimeUnit.SECONDS);
            assertThat(loaded.path("calls").asInt()).isGreaterThan(50);
            assertThat(loaded.path("last_10").toString()).as("recovered").isEqualTo("[\"ok\",\"ok\",\"ok\",\"ok\",\"ok\",\"ok\",\"ok\",\"ok\","
                    + "\"ok\",\"ok\"]");

            JsonNode updated = phase(server, "boto3_endpoints.py", "update");
            assertThat(updated.path("during").asText()).isEqualTo("Updating");
            assertThat(updated.path("update_twice").asText()).isEqualTo("ValidationException");
            assertThat(updated.path("status").toString()).isEqualTo("[\"InService\",\"one-variant\",\"\"]");
            assertThat(updated.path("failures").toString()).as("no call failed during the update").isEqualTo("[]");
            assertThat(updated.path("calls").asInt()).isGreaterThan(20);
            assertThat(updated.path("last_variant").asText()).isEqualTo("C");

            JsonNode deleted = phase(server, "boto3_endpoints.py", "delete");
            assertThat(deleted.path("gone").asText()).isEqualTo("ValidationException");
            assertThat(deleted.path("invoke_gone").asText()).isEqualTo("ValidationError");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!runcContainers(server.dataDir()).isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(500);
            }
            assertThat(runcContainers(server.dataDir())).as("nothing left running").isEmpty();
        } finally {
            try (var files = Files.walk(work)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static JsonNode json(String line) {
        try {
            return JSON.readTree(line);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The ids of the serving containers runc runs for this server. */
    private static List<String> runcContainers(Path dataDir) throws Exception {
        Process p = new ProcessBuilder("runc", "--root", dataDir.resolve("sandbox/state").toString(), "list", "-q").redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(30, TimeUnit.SECONDS);
        List<String> ids = new ArrayList<>();
        for (String line : out.split("\n")) {
            if (line.startsWith("ep-")) {
                ids.add(line.strip());
            }
        }
        return ids;
    }

    private static JsonNode phase(TestServer server, String script, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("python3", ClientEnvironment.resourceFile("/acceptance/" + script).toString()));
        command.addAll(List.of(args));
        // an update or a deployment on a loaded 2-core machine can take minutes: each phase gets 8
        ClientEnvironment.Result r = ClientEnvironment.run(server.clientFiles(), command, java.util.Map.of(), java.time.Duration.ofMinutes(8));
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        return JSON.readTree(r.stdout());
    }
}
