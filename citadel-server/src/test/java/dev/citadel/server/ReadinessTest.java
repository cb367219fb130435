package dev.citadel.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/**
 * /health/ready follows what it checks: a running Citadel is ready; once its metadata store is
 * gone (the pool closed, as when the database cannot be reached) it answers 503 naming the
 * check, while /health/live still answers 200.
 */
class ReadinessTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private static HttpResponse<String> get(TestServer server, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.citadel().operatorPort().orElseThrow() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void readinessFailsWhenTheMetadataStoreIsGoneAndLivenessDoesNot() throws Exception {
        try (TestServer server = TestServer.start()) {
            HttpResponse<String> ready = get(server, "/health/ready");
            assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);

            server.citadel().metadataStore().close();

            HttpResponse<String> notReady = get(server, "/health/ready");
            assertThat(notReady.statusCode()).isEqualTo(503);
            JsonNode body = new ObjectMapper().readTree(notReady.body());
            assertThat(body.path("status").asText()).isEqualTo("not ready");
            assertThat(body.path("checks").path("metadata").asText()).isEqualTo("failed");
            assertThat(body.path("checks").path("audit-log").asText()).isEqualTo("ok");
            assertThat(notReady.body()).doesNotContain("jdbc").doesNotContain(server.dataDir().toString());
            assertThat(get(server, "/health/live").statusCode()).isEqualTo(200);
            // The gauges that read the store cannot, yet the scrape still answers.
            assertThat(get(server, "/metrics").statusCode()).isEqualTo(200);
        }
    }
}
