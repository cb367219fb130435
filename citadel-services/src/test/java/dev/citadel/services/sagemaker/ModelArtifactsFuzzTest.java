package dev.citadel.services.sagemaker;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.citadel.core.AwsException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Fuzz target for model artifacts as a serving container's model directory receives them (a
 * gzip'd tar from whoever trained the model). Corpus:
 * {@code src/test/resources/dev/citadel/services/sagemaker/ModelArtifactsFuzzTestInputs/unpack/}. A
 * campaign: {@code JAZZER_FUZZ=1 mvn -pl citadel-services -am test -Dtest=ModelArtifactsFuzzTest
 * -Dsurefire.failIfNoSpecifiedTests=false}. Each archive is refused with a ClientError or unpacked
 * into the model directory and nowhere else, as files and directories only.
 */
class ModelArtifactsFuzzTest {
    @FuzzTest(maxDuration = "30s")
    void unpack(byte[] archive) throws IOException {
        Path root = Files.createTempDirectory("fuzz-model");
        try {
            Path file = root.resolve("model.tar.gz");
            Files.write(file, archive);
            Path model = Files.createDirectory(root.resolve("model"));
            try {
                ModelArtifacts.unpack(file, model, 1 << 20);
            } catch (AwsException e) {
                if (!e.code().equals("ClientError")) {
                    throw e;
                }
            }
            try (var walk = Files.walk(root)) {
                for (Path p : walk.toList()) {
                    if (Files.isSymbolicLink(p)) {
                        throw new AssertionError("a link was made: " + p);
                    }
                    if (!p.equals(root) && !p.equals(file) && !p.startsWith(model)) {
                        throw new AssertionError("written outside the model directory: " + p);
                    }
                }
            }
        } finally {
            try (var walk = Files.walk(root)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
