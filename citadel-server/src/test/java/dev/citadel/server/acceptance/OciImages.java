package dev.citadel.server.acceptance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Small OCI image layouts made with umoci for registry tests (no Docker engine here): busybox
 * from Debian's busybox-static and a marker file, so that two markers give two digests. The
 * realistic images (scikit-learn) come from scripts/test-images.sh.
 */
final class OciImages {
    private static final ObjectMapper JSON = new ObjectMapper();

    private OciImages() {
    }

    /** An image layout at {@code dir}, tag {@code latest}, holding /bin/busybox and /marker.txt with {@code marker}. */
    static Path tiny(Path dir, String marker) throws IOException, InterruptedException {
        Path layout = dir.resolve("layout");
        Path bundle = dir.resolve("bundle");
        Files.createDirectories(dir);
        run("umoci", "init", "--layout", layout.toString());
        run("umoci", "new", "--image", layout + ":latest");
        run("umoci", "unpack", "--image", layout + ":latest", bundle.toString());
        Path rootfs = bundle.resolve("rootfs");
        Files.createDirectories(rootfs.resolve("bin"));
        Files.copy(busybox(), rootfs.resolve("bin/busybox"));
        Files.writeString(rootfs.resolve("marker.txt"), marker + "\n", StandardCharsets.UTF_8);
        run("umoci", "repack", "--image", layout + ":latest", bundle.toString());
        run("umoci", "gc", "--layout", layout.toString());
        return layout;
    }

    private static Path busybox() {
        for (String candidate : List.of("/bin/busybox", "/usr/bin/busybox")) {
            if (Files.isRegularFile(Path.of(candidate))) {
                return Path.of(candidate);
            }
        }
        throw new IllegalStateException("busybox-static is not installed (./citadel test installs it)");
    }

    private static void run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
        }
    }

    /** The digest of the manifest tagged {@code latest} (or the only one). */
    static String manifestDigest(Path layout) throws IOException {
        JsonNode index = JSON.readTree(layout.resolve("index.json").toFile());
        JsonNode chosen = null;
        for (JsonNode m : index.path("manifests")) {
            if (chosen == null || "latest".equals(m.path("annotations").path("org.opencontainers.image.ref.name").asText())) {
                chosen = m;
            }
        }
        return chosen == null ? "" : chosen.path("digest").asText();
    }

    private static JsonNode manifest(Path layout) throws IOException {
        return JSON.readTree(layout.resolve("blobs/sha256/" + manifestDigest(layout).substring(7)).toFile());
    }

    /** The manifest, config and layer blob names (hex) of the {@code latest} image. */
    static List<String> referencedBlobs(Path layout) throws IOException {
        List<String> out = new ArrayList<>();
        out.add(manifestDigest(layout).substring(7));
        out.add(manifest(layout).path("config").path("digest").asText().substring(7));
        out.addAll(layers(layout));
        return out;
    }

    static List<String> layers(Path layout) throws IOException {
        List<String> out = new ArrayList<>();
        manifest(layout).path("layers").forEach(l -> out.add(l.path("digest").asText().substring(7)));
        return out;
    }
}
