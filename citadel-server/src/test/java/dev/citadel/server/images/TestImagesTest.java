package dev.citadel.server.images;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.server.images.TestImages.Blob;
import dev.citadel.server.images.TestImages.Image;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The images of scripts/test-images.sh are well-formed OCI image layouts with what later tests rely
 * on. Built once (the first Surefire pass), since the cache makes the second pass test nothing new.
 */
@Tag("runs-once")
class TestImagesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void tinyIsBusyboxInOneGzipLayer() throws Exception {
        Image image = TestImages.tiny();
        checkLayout(image);
        assertThat(image.layers()).hasSize(1);

        List<String> entries = tar("-tzf", image.blob(image.layerDigests().getFirst()).toString());
        assertThat(entries).contains("bin/busybox", "bin/sh", "bin/cat", "bin/ls", "bin/echo", "bin/sleep", "bin/wc", "bin/sha256sum");

        JsonNode config = JSON.readTree(image.configBytes());
        assertThat(config.path("config").path("Cmd").toString()).isEqualTo("[\"/bin/sh\"]");
        assertThat(config.path("config").path("Env").toString()).isEqualTo("[\"PATH=/bin\"]");
    }

    @Test
    void sklearnCarriesItsDpkgStatusForScanners() throws Exception {
        Image image = TestImages.sklearn();
        checkLayout(image);
        assertThat(image.layers()).hasSize(2);

        String status = null;
        for (String layer : image.layerDigests()) {
            Process p = new ProcessBuilder("tar", "--occurrence=1", "-xzOf", image.blob(layer).toString(), "var/lib/dpkg/status")
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() == 0 && !out.isEmpty()) {
                status = out;
            }
        }
        assertThat(status).as("var/lib/dpkg/status in some layer").isNotNull();
        assertThat(status).contains("Package: python3-sklearn\n").contains("Package: python3-numpy\n");

        JsonNode config = JSON.readTree(image.configBytes()).path("config");
        assertThat(config.path("Entrypoint").toString()).isEqualTo("[\"python3\"]");
        assertThat(config.path("WorkingDir").asText()).isEqualTo("/opt/ml/code");
        assertThat(config.path("Env").toString()).contains("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    }

    @Test
    void aSecondRunIsACacheHit() {
        Image tiny = TestImages.tiny();
        Image sklearn = TestImages.sklearn();
        assertThat(TestImages.tiny()).isSameAs(tiny);

        long started = System.nanoTime();
        Image tinyAgain = TestImages.load("tiny");
        Image sklearnAgain = TestImages.load("sklearn");
        long millis = (System.nanoTime() - started) / 1_000_000;
        assertThat(tinyAgain).isEqualTo(tiny);
        assertThat(sklearnAgain).isEqualTo(sklearn);
        assertThat(millis).as("two runs of the script that find their images in the cache").isLessThan(5_000);
    }

    /** What every image must satisfy to be pushed with skopeo and unpacked with umoci. */
    private static void checkLayout(Image image) throws Exception {
        assertThat(image.layout().resolve("index.json")).isRegularFile();
        assertThat(JSON.readTree(image.layout().resolve("oci-layout").toFile()).path("imageLayoutVersion").asText()).isEqualTo("1.0.0");
        assertThat(image.archive()).isRegularFile();

        assertThat(image.manifest().mediaType()).isEqualTo(TestImages.MANIFEST_MEDIA_TYPE);
        assertThat(image.config().mediaType()).isEqualTo(TestImages.CONFIG_MEDIA_TYPE);
        assertThat(image.layers()).isNotEmpty().allSatisfy(l -> assertThat(l.mediaType()).isEqualTo(TestImages.LAYER_MEDIA_TYPE));
        JsonNode manifest = JSON.readTree(image.manifestBytes());
        assertThat(manifest.path("mediaType").isMissingNode() || TestImages.MANIFEST_MEDIA_TYPE.equals(manifest.path("mediaType").asText())).isTrue();

        List<Blob> referenced = new ArrayList<>(image.layers());
        referenced.add(image.manifest());
        referenced.add(image.config());
        for (Blob b : referenced) {
            assertThat(Files.size(image.blob(b.digest()))).as(b.digest()).isEqualTo(b.size());
        }
        assertThat(image.totalSize()).isEqualTo(referenced.stream().mapToLong(Blob::size).sum());

        // Every blob, referenced or not, is named after the sha256 of its content.
        try (Stream<Path> blobs = Files.list(image.layout().resolve("blobs/sha256"))) {
            List<Path> files = blobs.toList();
            assertThat(files).hasSize(referenced.size());
            for (Path f : files) {
                assertThat(sha256(f)).as(f.toString()).isEqualTo(f.getFileName().toString());
            }
        }

        JsonNode config = JSON.readTree(image.configBytes());
        assertThat(config.path("architecture").asText()).isEqualTo("amd64");
        assertThat(config.path("os").asText()).isEqualTo("linux");
        assertThat(config.path("rootfs").path("diff_ids")).hasSize(image.layers().size());
    }

    private static String sha256(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                md.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static List<String> tar(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("tar"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        List<String> lines = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines()
                .map(l -> l.startsWith("./") ? l.substring(2) : l).toList();
        assertThat(p.waitFor()).as("tar " + String.join(" ", args)).isZero();
        return lines;
    }
}
