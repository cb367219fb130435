package dev.citadel.services.ecr;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.citadel.core.AwsException;
import java.util.List;
import java.util.Set;

/**
 * Fuzz targets for what a registry client sends: manifest and index bodies (with any of the
 * accepted media types, or none) and a chunk's Content-Range. Corpus:
 * {@code src/test/resources/dev/citadel/services/ecr/ManifestsFuzzTestInputs/<method>/}. A campaign:
 * {@code JAZZER_FUZZ=1 mvn -pl citadel-services -am test -Dtest=ManifestsFuzzTest -Dsurefire.failIfNoSpecifiedTests=false}.
 * Each either refuses with a registry error or returns values within the registry's limits.
 */
class ManifestsFuzzTest {
    private static final List<String> TYPES = List.of("", Manifests.OCI_MANIFEST, Manifests.OCI_INDEX, Manifests.DOCKER_MANIFEST,
            Manifests.DOCKER_LIST, "application/json", "text/plain");
    private static final Set<String> CODES = Set.of("MANIFEST_INVALID", "BLOB_UPLOAD_INVALID");

    @FuzzTest(maxDuration = "30s")
    void manifest(FuzzedDataProvider data) {
        String type = data.pickValue(TYPES);
        byte[] body = data.consumeRemainingAsBytes();
        try {
            Manifests.Parsed p = Manifests.parse(type, body);
            if (!Manifests.MEDIA_TYPES.contains(p.mediaType()) || p.references().size() > 1000 || p.isIndex() != (p.config() == null)) {
                throw new AssertionError("accepted: " + p);
            }
            for (Manifests.Reference r : p.references()) {
                if (!r.digest().matches("sha256:[a-f0-9]{64}") || r.size() < 0) {
                    throw new AssertionError("a reference out of bounds: " + r);
                }
            }
        } catch (AwsException e) {
            if (!CODES.contains(e.code())) {
                throw e;
            }
        }
    }

    @FuzzTest(maxDuration = "20s")
    void contentRange(String header) {
        try {
            long[] r = Manifests.contentRange(header);
            if (r != null && (r[0] < 0 || r[1] < r[0])) {
                throw new AssertionError("range accepted: " + r[0] + "-" + r[1]);
            }
        } catch (AwsException e) {
            if (!CODES.contains(e.code())) {
                throw e;
            }
        }
    }
}
