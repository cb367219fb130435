package dev.citadel.server.acceptance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.server.TestServer;
import dev.citadel.server.images.TrainerImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The marketplace's promise with boto3 and two member accounts of an organization: the seller lists
 * a validated algorithm and model package; the buyer subscribes, trains on its own data and deploys
 * and invokes the model, never getting the seller's image or artifact, and always without network;
 * the seller sees usage records and nothing of the buyer's; a product whose image has a CRITICAL
 * finding, an unvalidated one, and the buyer's attempts on the seller's things are refused (each
 * asserted on its own); both accounts' audit trails show their steps and the seller's holds no
 * buyer data. The phases are in boto3_marketplace.py.
 */
@Tag("runs-once")
class MarketplaceAcceptanceTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aSellerListsABuyerRunsAndNeitherTakesWhatIsTheOthers() throws Exception {
        Path work = Files.createTempDirectory("citadel-marketplace-");
        TestServer server = TestServer.start("jobs.stop-grace=5s");
        try {
            JsonNode setup = phase(server, "setup");
            String seller = setup.path("seller").asText();
            String buyer = setup.path("buyer").asText();
            String image = push(server, work, setup.path("password").asText());

            JsonNode s = phase(server, "seller", image);
            assertThat(s.path("scan").asText()).isEqualTo("COMPLETE");
            assertThat(s.path("logistic").asText()).isEqualTo("Completed");
            assertThat(s.path("package").asText()).isEqualTo("Completed");
            assertThat(s.path("listing_unvalidated").asText()).as("a listing of an unvalidated algorithm").isEqualTo("ValidationException");
            assertThat(s.path("listing_not_mine").asText()).as("a listing of another account's product").isEqualTo("AccessDeniedException");
            assertThat(s.path("listed_twice").asText()).isEqualTo("ConflictException");

            JsonNode b = phase(server, "buyer", s.path("artifact").asText());
            assertThat(b.path("catalog").toString()).isEqualTo("[\"A trained logistic model\",\"Logistic regression\"]");
            assertThat(b.path("described").toString()).isEqualTo("[\"Algorithm\",\"" + seller + "\",[\"C\"]]");
            assertThat(b.path("unsubscribed_job").asText()).as("an unsubscribed buyer starts a job").isEqualTo("ValidationException");
            assertThat(b.path("unsubscribed_model").asText()).as("an unsubscribed buyer makes a model").isEqualTo("ValidationException");
            assertThat(b.path("entitlements").toString()).isEqualTo("[\"Algorithm\",\"ModelPackage\"]");
            assertThat(b.path("out_of_range").asText()).as("hyperparameters outside the declared ranges").isEqualTo("ValidationException");
            assertThat(b.path("training").get(0).asText()).as(b.path("training").toString()).isEqualTo("Completed");
            assertThat(b.path("training").get(2).asBoolean()).as("asked for network, got none").isTrue();
            assertThat(b.path("training").get(3).toString()).isEqualTo("{\"AlgorithmName\":\"" + s.path("algorithm_arn").asText()
                    + "\",\"TrainingInputMode\":\"File\",\"EnableSageMakerMetricsTimeSeries\":false}");
            assertThat(b.path("pull_image").asText()).as("the buyer pulls the seller's image").isEqualTo("AccessDeniedException");
            assertThat(b.path("describe_images").asText()).isEqualTo("AccessDeniedException");
            assertThat(b.path("read_artifact").asText()).as("the buyer reads the seller's model artifact").isEqualTo("AccessDenied");
            assertThat(b.path("describe_algorithm").asText()).isEqualTo("AccessDeniedException");
            assertThat(b.path("describe_package").asText()).isEqualTo("AccessDeniedException");
            assertThat(b.path("model").toString()).isEqualTo("[{\"ModelPackageName\":\"" + s.path("package_arn").asText() + "\"},true]");
            assertThat(b.path("endpoint").toString()).isEqualTo("[\"InService\",\"\"]");
            assertThat(b.path("predictions").toString()).isEqualTo("[\"1\",\"0\"]");
            assertThat(b.path("after_unsubscribing").asText()).isEqualTo("ValidationException");
            // The buyer's Describe* never reveal where the seller's image or artifact is.
            for (String text : List.of("catalog_text", "describe_job_text", "describe_model_text")) {
                assertThat(b.path(text).asText()).as(text).doesNotContain("localhost:").doesNotContain("logistic:v1")
                        .doesNotContain("sha256:").doesNotContain("seller-products-");
            }

            // The AWS CLI v2 speaks the service through the same botocore model (any account reads the catalog).
            ClientEnvironment.Result cli = ClientEnvironment.run(server.clientFiles(), List.of(AwsCliAcceptanceTest.AWS_CLI_V2.toString(),
                    "citadel-marketplace", "list-listings", "--query", "Listings[].Title", "--output", "text"),
                    java.util.Map.of("AWS_DATA_PATH", models().toString()));
            assertThat(cli.exitCode()).as(cli.stderr()).isZero();
            assertThat(cli.stdout().trim().split("\\s*\\t\\s*")).containsExactlyInAnyOrder("Logistic regression", "A trained logistic model");

            JsonNode after = phase(server, "seller-after");
            assertThat(after.path("usage").toString()).isEqualTo("[[\"" + buyer + "\",\"TrainingJob\",\"bought-training\",true],[\"" + buyer
                    + "\",\"Endpoint\",\"bought\",true]]");
            assertThat(after.path("jobs").toString()).as("the seller sees its own jobs only").doesNotContain("bought-training")
                    .contains("seller-model");
            assertThat(after.path("describe_buyer_job").asText()).isEqualTo("ValidationException");
            assertThat(after.path("buyer_job_by_arn").asText()).isNotEqualTo("ok");
            assertThat(after.path("endpoints").toString()).isEqualTo("[]");
            assertThat(after.path("models").toString()).doesNotContain("bought");
            assertThat(after.path("read_buyer_data").asText()).isEqualTo("AccessDenied");
            assertThat(after.path("list_buyer_bucket").asText()).isEqualTo("AccessDenied");
            assertThat(after.path("buyer_logs").asText()).isEqualTo("AccessDeniedException");
            assertThat(after.path("own_log_streams").toString()).doesNotContain("bought-training");
            assertThat(after.path("usage_text").asText()).doesNotContain("secret-rows").doesNotContain("buyer-data-");

            // Audit: each account's trail has its steps; nothing of the buyer's data reaches the seller's.
            List<JsonNode> events = new ArrayList<>();
            for (String line : Files.readAllLines(server.dataDir().resolve("audit/events.jsonl"))) {
                events.add(JSON.readTree(line));
            }
            List<String> sellerNames = names(events, seller);
            List<String> buyerNames = names(events, buyer);
            assertThat(sellerNames).contains("CreateAlgorithm", "CreateModelPackage", "CreateListing", "ListUsageRecords");
            assertThat(buyerNames).contains("ListListings", "Subscribe", "CreateTrainingJob", "CreateModel", "CreateEndpoint", "InvokeEndpoint",
                    "Unsubscribe");
            for (JsonNode e : events) {
                // The seller's own refused probes of the buyer's bucket name it themselves; everything else in its trail must not.
                if (e.path("recipientAccountId").asText().equals(seller) && !e.has("errorCode")) {
                    assertThat(e.toString()).as("a seller's event").doesNotContain("buyer-data-").doesNotContain("secret-rows")
                            .doesNotContain("1.5,1.5");
                }
            }

            // A CRITICAL advisory arrives (imported offline, as `citadel vulndb import` does); a rescan finds it, and the product whose
            // image it is can no longer be listed.
            server.stop();
            Path osv = Files.createDirectories(work.resolve("osv"));
            Files.copy(ClientEnvironment.resourceFile("/acceptance/marketplace-osv/CITADEL-TEST-0001.json"), osv.resolve("CITADEL-TEST-0001.json"));
            try (dev.citadel.server.Citadel.Offline offline = dev.citadel.server.Citadel.openOffline(TestServer.config(server.dataDir()))) {
                var report = dev.citadel.services.ecr.scan.VulnerabilityImport.run(offline.store(), List.of(osv), java.time.Clock.systemUTC());
                assertThat(report.added()).isEqualTo(1);
            }
            server = server.restart("jobs.stop-grace=5s");
            JsonNode critical = phase(server, "critical");
            assertThat(critical.path("counts").path("CRITICAL").asInt()).isPositive();
            assertThat(critical.path("listing_critical").get(0).asText()).as("a product whose image has a critical finding")
                    .isEqualTo("ValidationException");
            assertThat(critical.path("listing_critical").get(1).asText()).contains("unresolved CRITICAL finding");
        } finally {
            server.close();
            try (var files = Files.walk(work)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static List<String> names(List<JsonNode> events, String account) {
        return events.stream().filter(e -> e.path("recipientAccountId").asText().equals(account) && !e.has("errorCode"))
                .map(e -> e.path("eventName").asText()).distinct().toList();
    }

    /** Pushes the trainer image into the seller's repository with the seller's registry password. */
    private static String push(TestServer server, Path work, String password) throws Exception {
        Path layout = TrainerImage.build(work.resolve("trainer"));
        Path certs = Files.createDirectories(work.resolve("certs"));
        Files.copy(server.clientFiles().caFile(), certs.resolve("ca.crt"));
        String host = "localhost:" + server.port();
        EcrAcceptanceTest.Skopeo push = EcrAcceptanceTest.skopeo(certs, "--dest-creds", "AWS:" + password,
                "oci:" + layout + ":" + TrainerImage.TAG, "docker://" + host + "/logistic:v1");
        assertThat(push.exitCode()).as(push.output()).isZero();
        return host + "/logistic:v1";
    }

    /** The project's botocore models (the citadel-marketplace service). */
    private static Path models() {
        return Path.of(System.getProperty("citadel.projectRoot", "..")).resolve("models").toAbsolutePath().normalize();
    }

    private static JsonNode phase(TestServer server, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("python3", ClientEnvironment.resourceFile("/acceptance/boto3_marketplace.py").toString(),
                args[0], models().toString()));
        command.addAll(List.of(args).subList(1, args.length));
        ClientEnvironment.Result r = ClientEnvironment.run(server.clientFiles(), command, java.util.Map.of(), java.time.Duration.ofMinutes(15));
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        return JSON.readTree(r.stdout());
    }
}
