package dev.citadel.server.images;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The container images tests push, pull and run, built without a Docker engine by
 * {@code scripts/test-images.sh} (see docs/TEST-IMAGES.md) and kept in its cache between runs.
 * The first call for an image in a JVM runs the script (a cache hit takes a fraction of a second,
 * a cold sklearn build several minutes); later calls return the same {@link Image}.
 */
public final class TestImages {
    public static final String MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json";
    public static final String CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json";
    public static final String LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip";
    public static final String TAG = "latest";

    /** A cold sklearn build measured 5 to 7 minutes on a busy two-core machine; this leaves room. */
    static final Duration TIMEOUT = Duration.ofMinutes(20);

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");

    private static Image tiny;
    private static Image sklearn;

    private TestImages() {
    }

    /** One blob of an image as its manifest names it. */
    public record Blob(String mediaType, String digest, long size) {
        public Blob {
            requireNonNull(mediaType, "mediaType is null");
            requireNonNull(digest, "digest is null");
        }
    }

    /**
     * An image in an OCI image layout with the tag {@value #TAG}.
     *
     * @param layout    the OCI image layout directory ({@code index.json}, {@code oci-layout}, {@code blobs/sha256/})
     * @param archive   the same image as an {@code oci-archive} tarball
     * @param manifest  the image manifest (media type {@value #MANIFEST_MEDIA_TYPE})
     * @param config    the image configuration (media type {@value #CONFIG_MEDIA_TYPE})
     * @param layers    the layers, base first (gzip tarballs, {@value #LAYER_MEDIA_TYPE})
     * @param totalSize bytes of manifest, configuration and layers together: what a push uploads
     */
    public record Image(String name, Path layout, Path archive, Blob manifest, Blob config, List<Blob> layers, long totalSize) {
        public Image {
            requireNonNull(name, "name is null");
            requireNonNull(layout, "layout is null");
            requireNonNull(archive, "archive is null");
            requireNonNull(manifest, "manifest is null");
            requireNonNull(config, "config is null");
            layers = List.copyOf(layers);
        }

        public String manifestDigest() {
            return manifest.digest();
        }

        public String configDigest() {
            return config.digest();
        }

        public List<String> layerDigests() {
            return layers.stream().map(Blob::digest).toList();
        }

        public List<Long> layerSizes() {
            return layers.stream().map(Blob::size).toList();
        }

        /** The file that holds a blob of this layout. */
        public Path blob(String digest) {
            if (!DIGEST.matcher(digest).matches()) {
                throw new IllegalArgumentException("not a sha256 digest: " + digest);
            }
            return layout.resolve("blobs/sha256").resolve(digest.substring("sha256:".length()));
        }

        /** The manifest exactly as stored (its sha256 is {@link #manifestDigest()}). */
        public byte[] manifestBytes() {
            return read(blob(manifest.digest()));
        }

        public byte[] configBytes() {
            return read(blob(config.digest()));
        }

        /** The source argument for {@code skopeo copy}: {@code oci:<layout>:latest}. */
        public String skopeoReference() {
            return "oci:" + layout + ":" + TAG;
        }
    }

    /** Busybox from Debian's busybox-static: one layer of about 1 MiB. */
    public static synchronized Image tiny() {
        if (tiny == null) {
            tiny = load("tiny");
        }
        return tiny;
    }

    /** Debian bookworm (minbase) with python3-sklearn: two layers, about 270 MiB compressed. */
    public static synchronized Image sklearn() {
        if (sklearn == null) {
            sklearn = load("sklearn");
        }
        return sklearn;
    }

    /** Runs the script for one image (a build, or a cache hit) and reads the layout it names. */
    static Image load(String name) {
        String[] line = runScript(name).split("\t");
        if (line.length != 3 || !line[0].equals(name)) {
            throw new IllegalStateException("unexpected output from scripts/test-images.sh: " + String.join("\t", line));
        }
        return read(name, Path.of(line[1]), Path.of(line[2]));
    }

    static Path script() {
        return Path.of(System.getProperty("citadel.projectRoot", "..")).toAbsolutePath().normalize().resolve("scripts/test-images.sh");
    }

    private static String runScript(String name) {
        Path out = null;
        Path err = null;
        try {
            out = Files.createTempFile("test-images", ".out");
            err = Files.createTempFile("test-images", ".err");
            Process p = new ProcessBuilder("bash", script().toString(), name)
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                stop(p);
                throw new IllegalStateException("scripts/test-images.sh " + name + " took longer than " + TIMEOUT + "; stderr:\n"
                        + Files.readString(err, StandardCharsets.UTF_8));
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException("scripts/test-images.sh " + name + " failed (exit " + p.exitValue() + "); stderr:\n"
                        + Files.readString(err, StandardCharsets.UTF_8));
            }
            return Files.readString(out, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } finally {
            deleteQuietly(out);
            deleteQuietly(err);
        }
    }

    /** SIGTERM first: the script then stops its own children and removes its unfinished build. */
    private static void stop(Process p) throws InterruptedException {
        List<ProcessHandle> descendants = p.descendants().toList();
        p.destroy();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            descendants.forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    static Image read(String name, Path layout, Path archive) {
        try {
            JsonNode index = JSON.readTree(layout.resolve("index.json").toFile());
            JsonNode descriptor = null;
            for (JsonNode m : index.path("manifests")) {
                if (TAG.equals(m.path("annotations").path("org.opencontainers.image.ref.name").asText())) {
                    descriptor = m;
                }
            }
            if (descriptor == null) {
                throw new IllegalStateException(layout + "/index.json has no manifest tagged " + TAG);
            }
            Blob manifest = blob(descriptor);
            JsonNode manifestJson = JSON.readTree(layout.resolve("blobs/sha256").resolve(manifest.digest().substring(7)).toFile());
            if (manifestJson.path("schemaVersion").asInt() != 2) {
                throw new IllegalStateException(name + ": manifest schemaVersion is not 2");
            }
            Blob config = blob(manifestJson.path("config"));
            List<Blob> layers = new ArrayList<>();
            for (JsonNode l : manifestJson.path("layers")) {
                layers.add(blob(l));
            }
            long total = manifest.size() + config.size() + layers.stream().mapToLong(Blob::size).sum();
            return new Image(name, layout, archive, manifest, config, layers, total);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Blob blob(JsonNode descriptor) {
        String digest = descriptor.path("digest").asText();
        if (!DIGEST.matcher(digest).matches()) {
            throw new IllegalStateException("not a sha256 digest: " + digest);
        }
        return new Blob(descriptor.path("mediaType").asText(), digest, descriptor.path("size").asLong(-1));
    }

    private static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteQuietly(Path file) {
        if (file != null) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // a temporary file; the system cleans its temp directory
            }
        }
    }
}
