package dev.citadel.server.acceptance;

import dev.citadel.auth.SigV4;
import dev.citadel.auth.SigV4Signer;
import dev.citadel.core.SecretBytes;
import dev.citadel.server.TestServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;

/** Signs requests by hand so that tests can send exactly the wrong thing. */
final class RawClient {
    record Reply(int status, String body, Map<String, List<String>> headers) {
    }

    final TestServer server;
    final int port;
    final String accessKeyId;
    final SecretBytes secret;
    private final HttpClient http;

    RawClient(TestServer server) {
        this(server, server.port());
    }

    /** A client of one of the server's listeners (the default one, or a private endpoint's). */
    RawClient(TestServer server, int port) {
        this.server = server;
        this.port = port;
        try {
            List<String> lines = Files.readAllLines(server.clientFiles().credentialsFile());
            this.accessKeyId = value(lines, "aws_access_key_id");
            this.secret = SecretBytes.ofUtf8(value(lines, "aws_secret_access_key"));
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(null, ClientEnvironment.trustManagers(server.clientFiles().caFile()), null);
            this.http = HttpClient.newBuilder().sslContext(tls).version(HttpClient.Version.HTTP_1_1).build();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String value(List<String> lines, String key) {
        return lines.stream().filter(l -> l.startsWith(key)).map(l -> l.substring(l.indexOf('=') + 1).strip()).findFirst().orElseThrow();
    }

    String host() {
        return "localhost:" + port;
    }

    /** Signs {@code signedBody} with {@code key}/{@code secretKey} at {@code at}, then sends {@code sentBody}. */
    Reply post(String service, Map<String, String> headers, String signedBody, String sentBody, String key, SecretBytes secretKey, Instant at) {
        Map<String, String> h = new LinkedHashMap<>(headers);
        h.put("host", host());
        Map<String, String> signed = new SigV4Signer(key, secretKey, "us-east-1", service)
                .signHeaders("POST", "/", "", h, SigV4.sha256Hex(signedBody.getBytes(StandardCharsets.UTF_8)), at);
        return send("POST", "", signed, sentBody);
    }

    Reply post(String service, Map<String, String> headers, String body) {
        return post(service, headers, body, body, accessKeyId, secret, Instant.now());
    }

    Reply unsigned(String service, Map<String, String> headers, String body) {
        return send("POST", "", headers, body);
    }

    Reply get(String query) {
        return send("GET", query, Map.of(), "");
    }

    Reply send(String method, String query, Map<String, String> headers, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://" + host() + "/" + (query.isEmpty() ? "" : "?" + query)))
                .method(method, body.isEmpty() ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        headers.forEach((k, v) -> {
            if (!k.equalsIgnoreCase("host") && !k.equalsIgnoreCase("content-length")) {
                b.header(k, v);
            }
        });
        try {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new Reply(r.statusCode(), r.body(), r.headers().map());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static Map<String, String> sts() {
        return Map.of("content-type", "application/x-www-form-urlencoded; charset=utf-8");
    }

    static Map<String, String> organizations(String operation) {
        return Map.of("content-type", "application/x-amz-json-1.1", "x-amz-target", "AWSOrganizationsV20161128." + operation);
    }
}
