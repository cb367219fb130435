package dev.citadel.server.acceptance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.server.TestServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The OCI Distribution API's edges, request by request: the 401 challenge, chunked uploads with
 * Content-Range, a digest that does not match, a chunk out of order, a manifest naming a missing
 * blob or with the wrong size, a manifest pushed by a digest it does not have, tags listing with
 * pagination; each refusal is the registry's error and leaves nothing behind.
 */
class RegistryProtocolTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static TestServer server;
    private static HttpClient http;
    private static String auth;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start();
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(null, ClientEnvironment.trustManagers(server.clientFiles().caFile()), null);
        http = HttpClient.newBuilder().sslContext(tls).build();
        ClientEnvironment.Result r = ClientEnvironment.run(server.clientFiles(), List.of("python3", "-c", String.join("\n",
                "import boto3",
                "ecr = boto3.client('ecr')",
                "ecr.create_repository(repositoryName='proto')",
                "ecr.create_repository(repositoryName='proto-mount')",
                "key = boto3.client('kms').create_key(Description='images')['KeyMetadata']['Arn']",
                "ecr.create_repository(repositoryName='proto-kms', encryptionConfiguration={'encryptionType': 'KMS', 'kmsKey': key})",
                "print(ecr.get_authorization_token()['authorizationData'][0]['authorizationToken'])")));
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        auth = "Basic " + r.stdout().trim();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static HttpResponse<String> call(String method, String path, byte[] body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://localhost:" + server.port() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> authed(String method, String path, byte[] body, String... headers) throws Exception {
        String[] all = new String[headers.length + 2];
        all[0] = "Authorization";
        all[1] = auth;
        System.arraycopy(headers, 0, all, 2, headers.length);
        return call(method, path, body, all);
    }

    private static String code(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body()).path("errors").path(0).path("code").asText();
    }

    private static String digest(byte[] b) throws Exception {
        return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    @Test
    void probeChallengesThenAcceptsTheToken() throws Exception {
        HttpResponse<String> anonymous = call("GET", "/v2/", null);
        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(anonymous.headers().firstValue("WWW-Authenticate").orElse("")).startsWith("Basic realm=");
        assertThat(code(anonymous)).isEqualTo("UNAUTHORIZED");
        String forged = "Basic " + Base64.getEncoder().encodeToString("AWS:ASIAAAAAAAAAAAAAAAAA.CTZ1AAAA".getBytes(StandardCharsets.UTF_8));
        assertThat(call("GET", "/v2/", null, "Authorization", forged).statusCode()).isEqualTo(401);
        HttpResponse<String> ok = authed("GET", "/v2/", null);
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ok.headers().firstValue("Docker-Distribution-API-Version")).hasValue("registry/2.0");
    }

    @Test
    void chunkedUploadWithContentRangeAndTheChecksThatRefuse() throws Exception {
        byte[] first = "the first chunk of a layer; ".getBytes(StandardCharsets.UTF_8);
        byte[] second = "and the second one.".getBytes(StandardCharsets.UTF_8);
        byte[] whole = (new String(first, StandardCharsets.UTF_8) + new String(second, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> started = authed("POST", "/v2/proto/blobs/uploads/", null);
        assertThat(started.statusCode()).isEqualTo(202);
        String location = started.headers().firstValue("Location").orElseThrow();
        assertThat(authed("PATCH", location, first, "Content-Range", "0-" + (first.length - 1)).statusCode()).isEqualTo(202);
        // A chunk that does not continue the upload: 416, and the upload is as it was.
        HttpResponse<String> gap = authed("PATCH", location, second, "Content-Range", (first.length + 5) + "-" + (first.length + 4 + second.length));
        assertThat(gap.statusCode()).isEqualTo(416);
        HttpResponse<String> status = authed("GET", location, null);
        assertThat(status.statusCode()).isEqualTo(204);
        assertThat(status.headers().firstValue("Range")).hasValue("0-" + (first.length - 1));
        assertThat(authed("PATCH", location, second, "Content-Range", first.length + "-" + (whole.length - 1)).statusCode()).isEqualTo(202);
        // The wrong digest: refused, and the upload is gone with its chunks.
        HttpResponse<String> wrong = authed("PUT", location + "?digest=" + digest("something else".getBytes(StandardCharsets.UTF_8)), null);
        assertThat(wrong.statusCode()).isEqualTo(400);
        assertThat(code(wrong)).isEqualTo("DIGEST_INVALID");
        assertThat(authed("HEAD", "/v2/proto/blobs/" + digest(whole), null).statusCode()).isEqualTo(404);
        assertThat(authed("GET", location, null).statusCode()).isEqualTo(404);

        // Again, completed with the right digest; then the blob reads back whole.
        String again = authed("POST", "/v2/proto/blobs/uploads/", null).headers().firstValue("Location").orElseThrow();
        authed("PATCH", again, first);
        HttpResponse<String> done = authed("PUT", again + "?digest=" + digest(whole), second);
        assertThat(done.statusCode()).as(done.body()).isEqualTo(201);
        assertThat(done.headers().firstValue("Docker-Content-Digest")).hasValue(digest(whole));
        HttpResponse<String> read = authed("GET", "/v2/proto/blobs/" + digest(whole), null);
        assertThat(read.statusCode()).isEqualTo(200);
        assertThat(read.body()).isEqualTo(new String(whole, StandardCharsets.UTF_8));
    }

    @Test
    void manifestsAreCheckedAgainstTheRepository() throws Exception {
        byte[] config = "{\"architecture\":\"amd64\",\"os\":\"linux\"}".getBytes(StandardCharsets.UTF_8);
        byte[] layer = "not really a tar, but blobs are blobs".getBytes(StandardCharsets.UTF_8);
        assertThat(authed("POST", "/v2/proto/blobs/uploads/?digest=" + digest(config), config).statusCode()).isEqualTo(201);
        assertThat(authed("POST", "/v2/proto/blobs/uploads/?digest=" + digest(layer), layer).statusCode()).isEqualTo(201);
        String good = manifest(digest(config), config.length, digest(layer), layer.length);
        String missing = manifest(digest(config), config.length, digest("absent".getBytes(StandardCharsets.UTF_8)), 6);
        String wrongSize = manifest(digest(config), config.length, digest(layer), layer.length + 1);
        String type = "application/vnd.oci.image.manifest.v1+json";
        HttpResponse<String> r = authed("PUT", "/v2/proto/manifests/v1", missing.getBytes(StandardCharsets.UTF_8), "Content-Type", type);
        assertThat(code(r)).isEqualTo("MANIFEST_BLOB_UNKNOWN");
        assertThat(code(authed("PUT", "/v2/proto/manifests/v1", wrongSize.getBytes(StandardCharsets.UTF_8), "Content-Type", type)))
                .isEqualTo("MANIFEST_INVALID");
        assertThat(code(authed("PUT", "/v2/proto/manifests/v1", "{\"schemaVersion\":1}".getBytes(StandardCharsets.UTF_8), "Content-Type", type)))
                .isEqualTo("MANIFEST_INVALID");
        assertThat(code(authed("PUT", "/v2/proto/manifests/" + digest("other".getBytes(StandardCharsets.UTF_8)),
                good.getBytes(StandardCharsets.UTF_8), "Content-Type", type))).isEqualTo("DIGEST_INVALID");
        assertThat(authed("GET", "/v2/proto/manifests/v1", null).statusCode()).isEqualTo(404);
        HttpResponse<String> put = authed("PUT", "/v2/proto/manifests/v1", good.getBytes(StandardCharsets.UTF_8), "Content-Type", type);
        assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
        String d = digest(good.getBytes(StandardCharsets.UTF_8));
        assertThat(put.headers().firstValue("Docker-Content-Digest")).hasValue(d);
        for (String tag : List.of("v2", "v3")) {
            authed("PUT", "/v2/proto/manifests/" + tag, good.getBytes(StandardCharsets.UTF_8), "Content-Type", type);
        }
        HttpResponse<String> got = authed("GET", "/v2/proto/manifests/" + d, null);
        assertThat(got.body()).isEqualTo(good);
        assertThat(got.headers().firstValue("Content-Type")).hasValue(type);
        HttpResponse<String> page = authed("GET", "/v2/proto/tags/list?n=2", null);
        JsonNode tags = JSON.readTree(page.body());
        assertThat(tags.path("tags").toString()).isEqualTo("[\"v1\",\"v2\"]");
        assertThat(page.headers().firstValue("Link").orElse("")).contains("last=v2");
        assertThat(JSON.readTree(authed("GET", "/v2/proto/tags/list?n=2&last=v2", null).body()).path("tags").toString()).isEqualTo("[\"v3\"]");
        assertThat(code(authed("GET", "/v2/Bad..Name/tags/list", null))).isEqualTo("NAME_INVALID");
        assertThat(code(authed("GET", "/v2/nope/tags/list", null))).isEqualTo("NAME_UNKNOWN");
        assertThat(authed("DELETE", "/v2/proto/manifests/" + d, null).statusCode()).isEqualTo(202);
        assertThat(authed("GET", "/v2/proto/manifests/v1", null).statusCode()).isEqualTo(404);
    }

    @Test
    void mountsWithinTheRegistryAndIndexesOfItsImages() throws Exception {
        byte[] blob = "a blob to mount into another repository".getBytes(StandardCharsets.UTF_8);
        String d = digest(blob);
        assertThat(authed("POST", "/v2/proto/blobs/uploads/?digest=" + d, blob).statusCode()).isEqualTo(201);
        // Same key (the account's aws/ecr): mounted without an upload.
        HttpResponse<String> mounted = authed("POST", "/v2/proto-mount/blobs/uploads/?mount=" + d + "&from=proto", null);
        assertThat(mounted.statusCode()).isEqualTo(201);
        assertThat(authed("GET", "/v2/proto-mount/blobs/" + d, null).body()).isEqualTo(new String(blob, StandardCharsets.UTF_8));
        // Another key (a repository under a customer KMS key): no mount, an upload starts instead (the spec's fallback).
        HttpResponse<String> fallback = authed("POST", "/v2/proto-kms/blobs/uploads/?mount=" + d + "&from=proto", null);
        assertThat(fallback.statusCode()).isEqualTo(202);
        assertThat(authed("HEAD", "/v2/proto-kms/blobs/" + d, null).statusCode()).isEqualTo(404);
        // A source that does not have the blob: also an upload.
        assertThat(authed("POST", "/v2/proto-mount/blobs/uploads/?mount=" + digest("x".getBytes(StandardCharsets.UTF_8)) + "&from=proto", null)
                .statusCode()).isEqualTo(202);

        // An index may list only manifests the repository has.
        byte[] config = "{}".getBytes(StandardCharsets.UTF_8);
        authed("POST", "/v2/proto-mount/blobs/uploads/?digest=" + digest(config), config);
        String image = manifest(digest(config), config.length, d, blob.length);
        String type = "application/vnd.oci.image.manifest.v1+json";
        assertThat(authed("PUT", "/v2/proto-mount/manifests/amd64", image.getBytes(StandardCharsets.UTF_8), "Content-Type", type).statusCode())
                .isEqualTo(201);
        String index = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[{\"mediaType\":\""
                + type + "\",\"digest\":\"%s\",\"size\":%d,\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}]}";
        String indexType = "application/vnd.oci.image.index.v1+json";
        String unknown = index.formatted(digest("nothing".getBytes(StandardCharsets.UTF_8)), 7);
        assertThat(code(authed("PUT", "/v2/proto-mount/manifests/multi", unknown.getBytes(StandardCharsets.UTF_8), "Content-Type", indexType)))
                .isEqualTo("MANIFEST_BLOB_UNKNOWN");
        String known = index.formatted(digest(image.getBytes(StandardCharsets.UTF_8)), image.length());
        assertThat(authed("PUT", "/v2/proto-mount/manifests/multi", known.getBytes(StandardCharsets.UTF_8), "Content-Type", indexType)
                .statusCode()).isEqualTo(201);
        HttpResponse<String> got = authed("GET", "/v2/proto-mount/manifests/multi", null);
        assertThat(got.headers().firstValue("Content-Type")).hasValue(indexType);
        assertThat(got.body()).isEqualTo(known);
    }

    private static String manifest(String configDigest, int configSize, String layerDigest, int layerSize) {
        return "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":"
                + "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + configDigest + "\",\"size\":" + configSize + "},\"layers\":[{"
                + "\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" + layerDigest + "\",\"size\":" + layerSize + "}]}";
    }
}
