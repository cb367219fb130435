package dev.citadel.pipeline.protocol;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.citadel.core.AwsException;
import dev.citadel.pipeline.ConnectionInfo;
import dev.citadel.pipeline.IncomingRequest;
import java.io.ByteArrayInputStream;
import java.util.List;
import java.util.Map;

/**
 * Fuzz target for the registry's routing of untrusted OCI Distribution paths and queries. Corpus:
 * {@code src/test/resources/dev/citadel/pipeline/protocol/OciRoutesFuzzTestInputs/route/}. A campaign:
 * {@code JAZZER_FUZZ=1 mvn -pl citadel-pipeline -am test -Dtest=OciRoutesFuzzTest -Dsurefire.failIfNoSpecifiedTests=false}.
 * Routing either refuses with a registry error or names an operation on a valid repository name,
 * with a tag or digest reference and an upload id of the expected forms.
 */
class OciRoutesFuzzTest {
    private static final List<String> METHODS = List.of("GET", "PUT", "POST", "HEAD", "DELETE", "PATCH", "OPTIONS");

    @FuzzTest(maxDuration = "30s")
    void route(FuzzedDataProvider data) {
        String method = data.pickValue(METHODS);
        String path = "/v2/" + data.consumeString(2100);
        String query = data.consumeRemainingAsString();
        IncomingRequest request = new IncomingRequest(method, path, query, Map.of(), new ByteArrayInputStream(new byte[0]), 0,
                new ConnectionInfo("127.0.0.1", "TLSv1.3", "TLS_AES_128_GCM_SHA256", ""));
        try {
            OciRoutes.Route r = OciRoutes.route(request);
            boolean nameOk = r.operation().equals("CheckRegistry") ? r.name().isEmpty()
                    : r.name().length() >= 2 && r.name().length() <= 256 && OciRoutes.NAME.matcher(r.name()).matches();
            boolean referenceOk = r.reference().isEmpty() || OciRoutes.TAG.matcher(r.reference()).matches()
                    || OciRoutes.DIGEST.matcher(r.reference()).matches();
            if (r.operation().isEmpty() || !nameOk || !referenceOk || r.uploadId().length() > 64) {
                throw new AssertionError("an unexpected route: " + r);
            }
            OciRoutes.input(r, request);
        } catch (AwsException expected) {
            // NAME_INVALID, NAME_UNKNOWN, MANIFEST_INVALID, DIGEST_INVALID, BLOB_UPLOAD_UNKNOWN, UNSUPPORTED
        }
    }
}
