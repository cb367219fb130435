package dev.citadel.pipeline.protocol;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.citadel.core.AwsException;
import dev.citadel.pipeline.ConnectionInfo;
import dev.citadel.pipeline.IncomingRequest;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Fuzz target for S3's REST routing of untrusted paths and queries. Corpus:
 * {@code src/test/resources/dev/citadel/pipeline/protocol/S3RoutesFuzzTestInputs/route/}. A campaign:
 * {@code JAZZER_FUZZ=1 mvn -pl citadel-pipeline -am test -Dtest=S3RoutesFuzzTest -Dsurefire.failIfNoSpecifiedTests=false}.
 * Routing either refuses with an AWS error or names an operation with a key of at most 1024 bytes.
 */
class S3RoutesFuzzTest {
    private static final List<String> METHODS = List.of("GET", "PUT", "POST", "HEAD", "DELETE", "PATCH");

    @FuzzTest(maxDuration = "30s")
    void route(FuzzedDataProvider data) {
        String method = data.pickValue(METHODS);
        String path = data.consumeString(2000);
        String query = data.consumeRemainingAsString();
        IncomingRequest request = new IncomingRequest(method, path, query, Map.of(), new ByteArrayInputStream(new byte[0]), 0,
                new ConnectionInfo("127.0.0.1", "TLSv1.3", "TLS_AES_128_GCM_SHA256", ""));
        try {
            S3Routes.Route r = S3Routes.route(request);
            if (r.operation().isEmpty() || r.key().getBytes(StandardCharsets.UTF_8).length > S3Routes.MAX_KEY_BYTES) {
                throw new AssertionError("a route without an operation or with an over-long key: " + r);
            }
            S3Routes.input(r, request, new byte[0]);
        } catch (AwsException expected) {
            // InvalidURI, KeyTooLongError
        }
    }
}
