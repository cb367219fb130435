package dev.citadel.server.acceptance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.core.SecretBytes;
import dev.citadel.server.TestServer;
import dev.citadel.server.bootstrap.ClientFiles;
import dev.citadel.server.config.ConfigException;
import dev.citadel.server.ops.PrometheusSamples;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.profiles.ProfileFile;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.NotFoundException;
import software.amazon.awssdk.services.sts.StsClient;

/**
 * The operator listener as an operator meets it: signed API calls (the AWS SDK for Java v2, and
 * one signed by hand with the wrong secret) move the request counters of their service,
 * operation, status and error code and the latency histogram; /metrics also has the audit, the
 * sandbox and the JVM; /health/live and /health/ready answer; the operator listener serves
 * nothing of the API and the API listener nothing of the operator's; a token, when set, is
 * required; off loopback a token is required before anything starts.
 */
class OperatorListenerAcceptanceTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static TestServer server;
    private static SdkHttpClient sdkHttp;
    private static ProfileFile profiles;
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() {
        server = TestServer.start();
        ClientFiles files = server.clientFiles();
        sdkHttp = ApacheHttpClient.builder().tlsTrustManagersProvider(() -> ClientEnvironment.trustManagers(files.caFile())).build();
        profiles = ProfileFile.aggregator()
                .addFile(ProfileFile.builder().content(files.configFile()).type(ProfileFile.Type.CONFIGURATION).build())
                .addFile(ProfileFile.builder().content(files.credentialsFile()).type(ProfileFile.Type.CREDENTIALS).build())
                .build();
    }

    @AfterAll
    static void stop() {
        sdkHttp.close();
        server.close();
    }

    private static ClientOverrideConfiguration overrides() {
        return ClientOverrideConfiguration.builder().defaultProfileFile(profiles).defaultProfileName(ClientFiles.PROFILE).build();
    }

    private static StsClient sts() {
        return StsClient.builder().httpClient(sdkHttp).overrideConfiguration(overrides())
                .credentialsProvider(ProfileCredentialsProvider.builder().profileFile(profiles).profileName(ClientFiles.PROFILE).build())
                .region(Region.US_EAST_1).build();
    }

    private static KmsClient kms() {
        return KmsClient.builder().httpClient(sdkHttp).overrideConfiguration(overrides())
                .credentialsProvider(ProfileCredentialsProvider.builder().profileFile(profiles).profileName(ClientFiles.PROFILE).build())
                .region(Region.US_EAST_1).build();
    }

    record Reply(int status, String body, java.net.http.HttpHeaders headers) {
    }

    static Reply operator(TestServer s, String method, String path, Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.citadel().operatorPort().orElseThrow() + path))
                .method(method, HttpRequest.BodyPublishers.noBody());
        headers.forEach(b::header);
        try {
            HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new Reply(r.statusCode(), r.body(), r.headers());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static PrometheusSamples scrape(TestServer s) {
        Reply r = operator(s, "GET", "/metrics", Map.of());
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
        return new PrometheusSamples(r.body());
    }

    private static Map<String, String> labels(String service, String operation, String status, String code) {
        return Map.of("service", service, "operation", operation, "status", status, "code", code);
    }

    @Test
    void signedCallsMoveTheCountersOfTheirOperationStatusAndErrorCodeAndTheLatencyHistogram() {
        PrometheusSamples before = scrape(server);
        try (StsClient sts = sts(); KmsClient kms = kms()) {
            sts.getCallerIdentity();
            sts.getCallerIdentity();
            assertThatThrownBy(() -> kms.describeKey(b -> b.keyId("alias/no-such-key"))).isInstanceOf(NotFoundException.class);
        }
        RawClient raw = new RawClient(server);
        RawClient.Reply refused = raw.post("sts", RawClient.sts(), "Action=GetCallerIdentity&Version=2011-06-15",
                "Action=GetCallerIdentity&Version=2011-06-15", raw.accessKeyId, SecretBytes.ofUtf8("x".repeat(40)), Instant.now());
        assertThat(refused.status()).isEqualTo(403);
        PrometheusSamples after = scrape(server);

        String requests = "citadel_requests_total";
        assertThat(after.sum(requests, labels("sts", "GetCallerIdentity", "200", "none"))
                - before.sum(requests, labels("sts", "GetCallerIdentity", "200", "none"))).isEqualTo(2.0);
        assertThat(after.sum(requests, labels("kms", "DescribeKey", "400", "NotFoundException"))
                - before.sum(requests, labels("kms", "DescribeKey", "400", "NotFoundException"))).isEqualTo(1.0);
        // Refused before its operation was read: counted under its service, operation unknown.
        assertThat(after.sum(requests, labels("sts", "unknown", "403", "SignatureDoesNotMatch"))
                - before.sum(requests, labels("sts", "unknown", "403", "SignatureDoesNotMatch"))).isEqualTo(1.0);

        Map<String, String> stsSuccess = Map.of("service", "sts", "operation", "GetCallerIdentity", "outcome", "success");
        String duration = "citadel_request_duration_seconds";
        assertThat(after.sum(duration + "_count", stsSuccess) - before.sum(duration + "_count", stsSuccess)).isEqualTo(2.0);
        assertThat(after.sum(duration + "_sum", stsSuccess)).isPositive();
        var buckets = after.matching(duration + "_bucket", stsSuccess);
        assertThat(buckets).extracting(b -> b.labels().get("le")).contains("0.001", "0.01", "0.1", "1.0", "+Inf");
        assertThat(after.sum(duration + "_bucket", Map.of("service", "sts", "operation", "GetCallerIdentity", "outcome", "success",
                "le", "+Inf"))).isGreaterThanOrEqualTo(2.0);
        Map<String, String> kmsClientError = Map.of("service", "kms", "operation", "DescribeKey", "outcome", "client_error");
        assertThat(after.sum(duration + "_count", kmsClientError) - before.sum(duration + "_count", kmsClientError)).isEqualTo(1.0);

        // Every answered request's audit event was made durable, and timed.
        assertThat(after.sum("citadel_audit_durable_seconds_count", Map.of())
                - before.sum("citadel_audit_durable_seconds_count", Map.of())).isGreaterThanOrEqualTo(4.0);
    }

    @Test
    void metricsCoverTheAuditTheSandboxAndTheJvmAndNameNoAccountOrKey() {
        PrometheusSamples samples = scrape(server);
        for (String name : new String[] {"citadel_audit_undelivered_bytes", "citadel_audit_delivery_lag_seconds_count",
                "citadel_audit_delivery_failures_total", "citadel_audit_sensitive_data_findings_total", "citadel_jobs_running",
                "citadel_jobs_queued", "citadel_endpoints_in_service", "citadel_endpoints_containers", "citadel_sandbox_available",
                "jvm_memory_used_bytes", "jvm_threads_live_threads", "jvm_gc_memory_allocated_bytes_total", "process_files_open_files",
                "process_cpu_usage", "process_uptime_seconds", "disk_free_bytes"}) {
            assertThat(samples.has(name)).as(name).isTrue();
        }
        assertThat(samples.matching("citadel_jobs_running", Map.of())).extracting(s -> s.labels().get("kind"))
                .containsExactlyInAnyOrder("training", "processing", "transform");
        assertThat(samples.sum("citadel_jobs_running", Map.of())).isZero();
        assertThat(samples.sum("citadel_endpoints_in_service", Map.of())).isZero();

        String text = operator(server, "GET", "/metrics", Map.of()).body();
        assertThat(text).doesNotContain(new RawClient(server).accessKeyId);
        try (StsClient sts = sts()) {
            assertThat(text).doesNotContain(sts.getCallerIdentity().account());
        }
    }

    @Test
    void liveAndReadyAnswerWithSmallJsonBodies() throws Exception {
        Reply live = operator(server, "GET", "/health/live", Map.of());
        assertThat(live.status()).isEqualTo(200);
        assertThat(live.body()).isEqualTo("{\"status\":\"live\"}");
        assertThat(live.headers().firstValue("cache-control")).hasValue("no-store");

        Reply ready = operator(server, "GET", "/health/ready", Map.of());
        assertThat(ready.status()).as(ready.body()).isEqualTo(200);
        JsonNode body = JSON.readTree(ready.body());
        assertThat(body.path("status").asText()).isEqualTo("ready");
        assertThat(body.path("checks").path("metadata").asText()).isEqualTo("ok");
        assertThat(body.path("checks").path("root-key").asText()).isEqualTo("ok");
        assertThat(body.path("checks").path("audit-log").asText()).isEqualTo("ok");
        assertThat(body.path("checks").path("listener").asText()).isEqualTo("ok");
        assertThat(body.path("checks").path("sandbox").asText()).isIn("ok", "degraded");
        assertThat(operator(server, "HEAD", "/health/ready", Map.of()).status()).isEqualTo(200);
    }

    @Test
    void theOperatorListenerServesNoApiAndNothingElse() {
        RawClient raw = new RawClient(server);
        double before = scrape(server).sum("citadel_requests_total", Map.of("service", "sts"));
        // A signed API call sent to the operator port: not found, and never reaches the pipeline.
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.citadel().operatorPort().orElseThrow() + "/"))
                .POST(HttpRequest.BodyPublishers.ofString("Action=GetCallerIdentity&Version=2011-06-15"));
        Map<String, String> signed = new dev.citadel.auth.SigV4Signer(raw.accessKeyId, raw.secret, "us-east-1", "sts").signHeaders("POST", "/", "",
                Map.of("host", "127.0.0.1:" + server.citadel().operatorPort().orElseThrow(), "content-type",
                        "application/x-www-form-urlencoded; charset=utf-8"),
                dev.citadel.auth.SigV4.sha256Hex("Action=GetCallerIdentity&Version=2011-06-15".getBytes(java.nio.charset.StandardCharsets.UTF_8)),
                Instant.now());
        signed.forEach((k, v) -> {
            if (!k.equalsIgnoreCase("host")) {
                b.header(k, v);
            }
        });
        try {
            HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(404);
            assertThat(r.body()).doesNotContain("GetCallerIdentityResult");
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        assertThat(scrape(server).sum("citadel_requests_total", Map.of("service", "sts"))).isEqualTo(before);

        assertThat(operator(server, "GET", "/", Map.of()).status()).isEqualTo(404);
        assertThat(operator(server, "GET", "/_citadel/health", Map.of()).status()).isEqualTo(404);
        assertThat(operator(server, "GET", "/metrics/../health/live", Map.of()).status()).isIn(400, 404);
        Reply post = operator(server, "POST", "/metrics", Map.of());
        assertThat(post.status()).isEqualTo(405);
        assertThat(post.headers().firstValue("allow")).hasValue("GET, HEAD");
    }

    @Test
    void theApiListenerServesNoMetricsAndNoOperatorHealth() {
        RawClient raw = new RawClient(server);
        for (String path : new String[] {"/metrics", "/health/ready", "/health/live"}) {
            HttpRequest request = HttpRequest.newBuilder(URI.create("https://localhost:" + server.port() + path)).GET().build();
            try {
                var tls = javax.net.ssl.SSLContext.getInstance("TLS");
                tls.init(null, ClientEnvironment.trustManagers(server.clientFiles().caFile()), null);
                HttpResponse<String> r = HttpClient.newBuilder().sslContext(tls).build().send(request, HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as(path).isEqualTo(403);
                assertThat(r.body()).as(path).contains("<Code>").doesNotContain("jvm_").doesNotContain("citadel_requests").doesNotContain("checks");
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }
        assertThat(raw.port).isNotEqualTo(server.citadel().operatorPort().orElseThrow());
    }

    @Test
    void aTokenWhenSetIsRequiredOnEveryPath() throws Exception {
        Path token = Files.createTempFile("operator", ".token", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        String secret = "0123456789abcdef0123456789abcdef0123456789abcdef";
        Files.writeString(token, secret + "\n");
        try (TestServer guarded = TestServer.start("operator.token-file=" + token)) {
            for (String path : new String[] {"/metrics", "/health/live", "/health/ready", "/nowhere"}) {
                Reply none = operator(guarded, "GET", path, Map.of());
                assertThat(none.status()).as(path).isEqualTo(401);
                assertThat(none.headers().firstValue("www-authenticate")).hasValue("Bearer realm=\"citadel-operator\"");
                assertThat(operator(guarded, "GET", path, Map.of("Authorization", "Bearer " + secret.replace('0', '1'))).status()).isEqualTo(401);
                assertThat(operator(guarded, "GET", path, Map.of("Authorization", "Basic " + secret)).status()).isEqualTo(401);
            }
            assertThat(operator(guarded, "GET", "/metrics", Map.of("Authorization", "Bearer " + secret)).status()).isEqualTo(200);
            assertThat(operator(guarded, "GET", "/health/ready", Map.of("Authorization", "bearer " + secret)).status()).isEqualTo(200);
            assertThat(operator(guarded, "GET", "/nowhere", Map.of("Authorization", "Bearer " + secret)).status()).isEqualTo(404);
        } finally {
            Files.deleteIfExists(token);
        }
    }

    @Test
    void offLoopbackTheStartIsRefusedWithoutAToken() {
        assertThatThrownBy(() -> TestServer.start("operator.listen=0.0.0.0:0"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("operator.listen 0.0.0.0:0 is not a loopback address")
                .hasMessageContaining("operator.token-file");
    }

    @Test
    void noOperatorListenerWhenItsAddressIsEmpty() {
        try (TestServer quiet = TestServer.start("operator.listen=")) {
            assertThat(quiet.citadel().operatorPort()).isEmpty();
        }
    }
}
