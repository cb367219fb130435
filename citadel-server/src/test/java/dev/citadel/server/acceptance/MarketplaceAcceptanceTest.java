package dev.citadel.server.acceptance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.server.TestServer;
import dev.citadel.server.images.SellerImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The marketplace's promise with boto3 and two member accounts of an organization: the seller lists
 * a validated algorithm and model package; the buyer subscribes, trains on its own data and deploys
 * and invokes the model, never getting the seller's image or artifact, and always without network;
 * the seller sees usage records and nothing of the buyer's; a product whose image has a CRITICAL
 * finding, an unvalidated one, and the buyer's attempts on the seller's things are refused. The
 * seller's image ({@link SellerImage}) seals every model it trains with a key packaged in the image,
 * so the model package's artifact is ciphertext that only the serving container opens (the seed's
 * pattern), and the buyer runs it behind an endpoint and in a batch transform. The listing seals
 * that artifact again under the seller's KMS key: listing needs the seller's grant to Citadel's
 * launcher, the launcher's Decrypt for the buyer's endpoint is in the seller's trail, the buyer's
 * administrator cannot decrypt, and once the seller revokes the grant a new endpoint fails.
 *
 * <p>The flow runs once ({@link #flow}; its phases are in boto3_marketplace.py, the server state
 * carrying over) and records what each step answered; each refusal is then a test of its own.
 */
@Tag("runs-once")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MarketplaceAcceptanceTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Path work;
    private TestServer server;
    private String seller;
    private String buyer;
    private JsonNode s;
    private JsonNode b;
    private JsonNode t;
    private JsonNode sealed;
    private final byte[] sellerKey = new byte[32];
    private JsonNode after;
    private JsonNode critical;
    private String cliListing;
    private List<JsonNode> events;
    private List<String> sealedFiles;

    @BeforeAll
    void flow() throws Exception {
        work = Files.createTempDirectory("citadel-marketplace-");
        server = TestServer.start("jobs.stop-grace=5s");
        JsonNode setup = phase("setup");
        seller = setup.path("seller").asText();
        buyer = setup.path("buyer").asText();
        String image = push(setup.path("password").asText());
        s = phase("seller", image);
        b = phase("buyer", s.path("artifact").asText());
        t = phase("transform");
        sealed = phase("sealed", HexFormat.of().formatHex(sellerKey));
        // The AWS CLI v2 speaks the service through the same botocore model (any account reads the catalog).
        ClientEnvironment.Result cli = ClientEnvironment.run(server.clientFiles(), List.of(AwsCliAcceptanceTest.AWS_CLI_V2.toString(),
                "citadel-marketplace", "list-listings", "--query", "Listings[].Title", "--output", "text"),
                java.util.Map.of("AWS_DATA_PATH", models().toString()));
        assertThat(cli.exitCode()).as(cli.stderr()).isZero();
        cliListing = cli.stdout().trim();
        after = phase("seller-after");
        try (var files = Files.list(server.dataDir().resolve("marketplace"))) {
            sealedFiles = files.map(p -> p.getFileName().toString()).sorted().toList();
        }
        events = new ArrayList<>();
        for (String line : Files.readAllLines(server.dataDir().resolve("audit/events.jsonl"))) {
            events.add(JSON.readTree(line));
        }
        // A CRITICAL advisory arrives (imported offline, as `citadel vulndb import` does); a rescan finds it.
        server.stop();
        Path osv = Files.createDirectories(work.resolve("osv"));
        Files.copy(ClientEnvironment.resourceFile("/acceptance/marketplace-osv/CITADEL-TEST-0001.json"), osv.resolve("CITADEL-TEST-0001.json"));
        try (dev.citadel.server.Citadel.Offline offline = dev.citadel.server.Citadel.openOffline(TestServer.config(server.dataDir()))) {
            var report = dev.citadel.services.ecr.scan.VulnerabilityImport.run(offline.store(), List.of(osv), java.time.Clock.systemUTC());
            assertThat(report.added()).isEqualTo(1);
        }
        server = server.restart("jobs.stop-grace=5s");
        critical = phase("critical");
    }

    @AfterAll
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
        try (var files = Files.walk(work)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    // ---- the flow ----

    @Test
    void theSellersProductsAreValidatedAndListed() {
        assertThat(s.path("scan").asText()).isEqualTo("COMPLETE");
        assertThat(s.path("logistic").asText()).isEqualTo("Completed");
        assertThat(s.path("package").asText()).isEqualTo("Completed");
        assertThat(s.path("algorithm_listing").asText()).startsWith("lst-");
        assertThat(s.path("package_listing").asText()).startsWith("lst-");
        assertThat(s.path("listed_twice").asText()).isEqualTo("ConflictException");
    }

    @Test
    void everyAccountReadsTheCatalogWithBoto3AndTheCli() {
        assertThat(b.path("catalog").toString()).isEqualTo("[\"A trained logistic model\",\"Logistic regression\"]");
        assertThat(b.path("described").toString()).isEqualTo("[\"Algorithm\",\"" + seller + "\",[\"C\"]]");
        assertThat(cliListing.split("\\s*\\t\\s*")).containsExactlyInAnyOrder("Logistic regression", "A trained logistic model");
    }

    @Test
    void theBuyerSubscribesTrainsDeploysAndInvokes() {
        assertThat(b.path("entitlements").toString()).isEqualTo("[\"Algorithm\",\"ModelPackage\"]");
        assertThat(b.path("training").get(0).asText()).as(b.path("training").toString()).isEqualTo("Completed");
        assertThat(b.path("training").get(3).toString()).isEqualTo("{\"AlgorithmName\":\"" + s.path("algorithm_arn").asText()
                + "\",\"TrainingInputMode\":\"File\",\"EnableSageMakerMetricsTimeSeries\":false}");
        assertThat(b.path("endpoint").toString()).isEqualTo("[\"InService\",\"\"]");
        assertThat(b.path("predictions").toString()).isEqualTo("[\"1\",\"0\"]");
    }

    @Test
    void theSellerSeesUsageRecordsOnly() {
        assertThat(after.path("usage").toString()).isEqualTo("[[\"" + buyer + "\",\"TrainingJob\",\"bought-training\",true],[\"" + buyer
                + "\",\"Endpoint\",\"bought\",true],[\"" + buyer + "\",\"TransformJob\",\"bought-transform\",true]]");
        assertThat(after.path("usage_text").asText()).doesNotContain("secret-rows").doesNotContain("buyer-data-");
    }

    @Test
    void theSellersImageSealsTheModelAndOnlyTheServingContainerOpensIt() {
        // What the seller stored is the sealed model alone, and it is ciphertext of the pickled model.
        assertThat(sealed.path("members").toString()).isEqualTo("[\"model.sealed\"]");
        assertThat(sealed.path("tag_ok").asBoolean()).as("sealed under the image's key").isTrue();
        assertThat(sealed.path("plain_is_model").asBoolean()).as("opens to a pickled scikit-learn model").isTrue();
        assertThat(sealed.path("ciphertext_only").asBoolean()).as("no 32-byte run of the model in the artifact").isTrue();
        assertThat(sealed.path("names_hidden").asBoolean()).as("no class or attribute name in the artifact").isTrue();
        // Served from that ciphertext: the buyer's endpoint and transform answer with the model's predictions.
        assertThat(b.path("predictions").toString()).isEqualTo("[\"1\",\"0\"]");
        assertThat(t.path("transform_output").toString()).isEqualTo("[\"1\",\"0\",\"1\",\"0\"]");
        // And neither the artifact nor the image that holds the key is the buyer's to take.
        assertThat(sealed.path("buyer_reads_artifact").asText()).isEqualTo("AccessDenied");
        assertThat(b.path("pull_image").asText()).isEqualTo("AccessDeniedException");
    }

    @Test
    void theBuyerTransformsItsDataWithTheSubscribedModelPackage() {
        assertThat(t.path("transform").toString()).isEqualTo("[\"Completed\",\"\",\"bought\"]");
        assertThat(t.path("transform_output").toString()).isEqualTo("[\"1\",\"0\",\"1\",\"0\"]");
        assertThat(t.path("describe_transform_text").asText()).doesNotContain("localhost:").doesNotContain("sha256:")
                .doesNotContain("seller-products-").contains("buyer-data-" + buyer);
        // The model was asked for without network isolation; it is isolated, and the container saw loopback only.
        assertThat(t.path("transform_model_isolated").asBoolean()).isTrue();
        assertThat(t.path("transform_interfaces").toString()).isEqualTo("[\"network interfaces: lo\"]");
    }

    @Test
    void theProductsReportTheirImageScans() {
        assertThat(after.path("scan_statuses").toString()).isEqualTo("[[{\"Name\":\"logistic\",\"Status\":\"Completed\"}],"
                + "[{\"Name\":\"logistic-model\",\"Status\":\"Completed\"}]]");
        JsonNode failed = critical.path("scan_status_critical").path(0);
        assertThat(failed.path("Name").asText()).isEqualTo("second");
        assertThat(failed.path("Status").asText()).isEqualTo("Failed");
        assertThat(failed.path("FailureReason").asText()).contains("unresolved CRITICAL finding");
    }

    // ---- refusals, each its own test ----

    @Test
    void theBuyerPullsTheSellersImage() {
        assertThat(b.path("pull_image").asText()).isEqualTo("AccessDeniedException");
        assertThat(b.path("describe_images").asText()).isEqualTo("AccessDeniedException");
    }

    @Test
    void theBuyerReadsTheSellersModelArtifact() {
        assertThat(b.path("read_artifact").asText()).isEqualTo("AccessDenied");
    }

    @Test
    void theBuyersDescribeRevealsNoImageUriOrModelDataUrl() {
        for (String text : List.of("catalog_text", "describe_job_text", "describe_model_text")) {
            assertThat(b.path(text).asText()).as(text).doesNotContain("localhost:").doesNotContain("logistic:v1").doesNotContain("sha256:")
                    .doesNotContain("seller-products-");
        }
        assertThat(b.path("model").toString()).isEqualTo("[{\"ModelPackageName\":\"" + s.path("package_arn").asText() + "\"},true]");
        assertThat(b.path("describe_algorithm").asText()).isEqualTo("AccessDeniedException");
        assertThat(b.path("describe_package").asText()).isEqualTo("AccessDeniedException");
    }

    @Test
    void anUnsubscribedBuyerStartsAJobWithTheProduct() {
        assertThat(b.path("unsubscribed_job").asText()).isEqualTo("ValidationException");
        assertThat(b.path("unsubscribed_model").asText()).isEqualTo("ValidationException");
        assertThat(b.path("after_unsubscribing").asText()).isEqualTo("ValidationException");
    }

    @Test
    void aBuyersRequestWithoutNetworkIsolationGetsNoNetwork() {
        assertThat(b.path("training").get(2).asBoolean()).as("asked for network, ran isolated").isTrue();
        assertThat(b.path("model").get(1).asBoolean()).as("asked for network, serves isolated").isTrue();
    }

    @Test
    void theSellerListsDescribesOrReadsAnythingOfTheBuyers() {
        assertThat(after.path("jobs").toString()).doesNotContain("bought-training").contains("seller-model");
        assertThat(after.path("describe_buyer_job").asText()).isEqualTo("ValidationException");
        assertThat(after.path("buyer_job_by_arn").asText()).isNotEqualTo("ok");
        assertThat(after.path("endpoints").toString()).isEqualTo("[]");
        assertThat(after.path("transforms").toString()).doesNotContain("bought-transform");
        assertThat(after.path("describe_buyer_transform").asText()).isEqualTo("ValidationException");
        assertThat(after.path("read_buyer_output").asText()).isEqualTo("AccessDenied");
        assertThat(after.path("models").toString()).doesNotContain("bought");
        assertThat(after.path("read_buyer_data").asText()).isEqualTo("AccessDenied");
        assertThat(after.path("list_buyer_bucket").asText()).isEqualTo("AccessDenied");
        assertThat(after.path("buyer_logs").asText()).isEqualTo("AccessDeniedException");
        assertThat(after.path("own_log_streams").toString()).doesNotContain("bought-training");
    }

    @Test
    void theSellerListsAProductWhoseImageHasACriticalFinding() {
        assertThat(critical.path("counts").path("CRITICAL").asInt()).isPositive();
        assertThat(critical.path("listing_critical").get(0).asText()).isEqualTo("ValidationException");
        assertThat(critical.path("listing_critical").get(1).asText()).contains("unresolved CRITICAL finding");
    }

    @Test
    void aModelPackageIsListedOnlyWithTheSellersGrantToTheLauncher() {
        assertThat(s.path("listing_without_key").asText()).isEqualTo("ValidationException");
        assertThat(s.path("listing_without_grant").get(0).asText()).isEqualTo("ValidationException");
        assertThat(s.path("listing_without_grant").get(1).asText()).contains("no grant for citadel-marketplace.amazonaws.com")
                .contains("citadel:marketplace:product=" + s.path("package_arn").asText());
        assertThat(s.path("listing_unbound_grant").asText()).as("a grant not bound to the product").isEqualTo("ValidationException");
        // Nothing written by the refusals: no listing, and one sealed artifact (the listed package's) with no partial file.
        assertThat(s.path("refused_listings").toString()).isEqualTo("[]");
        assertThat(sealedFiles).containsExactly(s.path("package_listing").asText() + ".artifact");
    }

    @Test
    void theSellersTrailShowsTheLaunchersDecryptForTheBuyersEndpoint() {
        String context = "{\"citadel:marketplace:product\":\"" + s.path("package_arn").asText() + "\"}";
        List<JsonNode> launcher = events.stream().filter(e -> e.path("eventName").asText().equals("Decrypt")
                && e.path("userIdentity").path("type").asText().equals("AWSService")).toList();
        assertThat(launcher).isNotEmpty().allSatisfy(e -> {
            assertThat(e.path("recipientAccountId").asText()).isEqualTo(seller);
            assertThat(e.path("userIdentity").path("arn").asText()).isEqualTo("citadel-marketplace.amazonaws.com");
            assertThat(e.path("requestParameters").path("EncryptionContext").toString()).isEqualTo(context);
            assertThat(e.toString()).doesNotContain("secret-rows").doesNotContain("buyer-data-");
        });
        // One for the endpoint that served, one for the transform job's serving container, then the refusal once the grant was revoked.
        assertThat(launcher.stream().map(e -> e.path("errorCode").asText("")).toList()).containsExactly("", "", "AccessDeniedException");
        assertThat(launcher.getFirst().path("responseElements").path("Plaintext").asText()).isEqualTo("HIDDEN_DUE_TO_SECURITY_REASONS");
        // The data key was made at listing time by the seller's own caller, under the same context.
        assertThat(events.stream().filter(e -> e.path("eventName").asText().equals("GenerateDataKey") && !e.has("errorCode")
                && e.path("requestParameters").path("EncryptionContext").toString().equals(context)).map(e -> e.path("recipientAccountId")
                .asText() + " " + e.path("userIdentity").path("type").asText()).toList()).isNotEmpty().containsOnly(seller + " AssumedRole");
    }

    @Test
    void theBuyersAdministratorDecryptsTheSealedKey() {
        assertThat(b.path("buyer_decrypt").toString()).isEqualTo("[\"AccessDeniedException\",\"AccessDeniedException\","
                + "\"AccessDeniedException\"]");
    }

    @Test
    void aNewEndpointAfterTheSellerRevokesTheGrant() {
        assertThat(t.path("after_revoke").get(0).asText()).isEqualTo("Failed");
        assertThat(t.path("after_revoke").get(1).asText()).contains("the seller's key no longer lets Citadel's launcher open the product's "
                + "artifact").contains("AccessDeniedException");
    }

    @Test
    void aListingOfAnUnvalidatedAlgorithm() {
        assertThat(s.path("listing_unvalidated").asText()).isEqualTo("ValidationException");
    }

    @Test
    void aListingOfAnotherAccountsProduct() {
        assertThat(s.path("listing_not_mine").asText()).isEqualTo("AccessDeniedException");
    }

    @Test
    void hyperparametersOutsideTheDeclaredRanges() {
        assertThat(b.path("out_of_range").asText()).isEqualTo("ValidationException");
    }

    // ---- audit ----

    @Test
    void bothTrailsShowEachStepAndTheSellersHoldsNoBuyerData() {
        assertThat(names(seller)).contains("CreateAlgorithm", "CreateModelPackage", "CreateListing", "ListUsageRecords");
        assertThat(names(buyer)).contains("ListListings", "Subscribe", "CreateTrainingJob", "CreateModel", "CreateEndpoint", "InvokeEndpoint",
                "CreateTransformJob", "Unsubscribe");
        for (JsonNode e : events) {
            // The seller's own refused probes of the buyer's bucket name it themselves; everything else in its trail must not.
            if (e.path("recipientAccountId").asText().equals(seller) && !e.has("errorCode")) {
                assertThat(e.toString()).as("a seller's event").doesNotContain("buyer-data-").doesNotContain("secret-rows")
                        .doesNotContain("1.5,1.5");
            }
        }
    }

    private List<String> names(String account) {
        return events.stream().filter(e -> e.path("recipientAccountId").asText().equals(account) && !e.has("errorCode"))
                .map(e -> e.path("eventName").asText()).distinct().toList();
    }

    /** Pushes the seller's image, with a new key of its own, into the seller's repository with the seller's registry password. */
    private String push(String password) throws Exception {
        new SecureRandom().nextBytes(sellerKey);
        Path layout = SellerImage.build(work.resolve("seller"), sellerKey);
        Path certs = Files.createDirectories(work.resolve("certs"));
        Files.copy(server.clientFiles().caFile(), certs.resolve("ca.crt"));
        String host = "localhost:" + server.port();
        EcrAcceptanceTest.Skopeo push = EcrAcceptanceTest.skopeo(certs, "--dest-creds", "AWS:" + password,
                "oci:" + layout + ":" + SellerImage.TAG, "docker://" + host + "/logistic:v1");
        assertThat(push.exitCode()).as(push.output()).isZero();
        return host + "/logistic:v1";
    }

    /** The project's botocore models (the citadel-marketplace service). */
    private static Path models() {
        return Path.of(System.getProperty("citadel.projectRoot", "..")).resolve("models").toAbsolutePath().normalize();
    }

    private JsonNode phase(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("python3", ClientEnvironment.resourceFile("/acceptance/boto3_marketplace.py").toString(),
                args[0], models().toString()));
        command.addAll(List.of(args).subList(1, args.length));
        ClientEnvironment.Result r = ClientEnvironment.run(server.clientFiles(), command, java.util.Map.of(), java.time.Duration.ofMinutes(15));
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        return JSON.readTree(r.stdout());
    }
}
