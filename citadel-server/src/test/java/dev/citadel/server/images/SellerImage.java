package dev.citadel.server.images;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A marketplace seller's image for the marketplace tests, made from the scikit-learn test image as
 * {@link TrainerImage} is: the seller's key at {@code /opt/seller/model.key} (32 bytes the test
 * chooses), the quickstart's logistic regression ({@code examples/sklearn-image/train}) as
 * {@code /usr/local/bin/train-logistic}, and the test resources {@code seller-train} and
 * {@code seller-serve} next to this class as {@code /usr/local/bin/train} and {@code serve}: the
 * training job's model leaves the container sealed with the key (format in seller-train's comment),
 * and the serving container opens it in memory. Citadel never sees the key; only the image holds
 * it. Each in a layer of its own, the Entrypoint cleared; tagged {@value #TAG}.
 */
public final class SellerImage {
    public static final String TAG = "seller";

    private SellerImage() {
    }

    /** Writes the layout under {@code directory} (which must not exist) and returns it; {@code key} is 32 bytes. */
    public static Path build(Path directory, byte[] key) throws IOException, InterruptedException {
        if (key.length != 32) {
            throw new IllegalArgumentException("the seller's key is 32 bytes");
        }
        TestImages.Image base = TestImages.sklearn();
        run(List.of("cp", "-al", base.layout().toString(), directory.toString()));
        Path project = Path.of(System.getProperty("citadel.projectRoot", "..")).toAbsolutePath().normalize();
        Path files = Files.createTempDirectory(directory.getParent(), "seller-files-");
        try {
            Path keyFile = files.resolve("model.key");
            Files.write(keyFile, key);
            Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-r--r--"));
            run(List.of("umoci", "insert", "--image", directory + ":" + TestImages.TAG, "--tag", TAG, keyFile.toString(),
                    "/opt/seller/model.key"));
            run(List.of("umoci", "insert", "--image", directory + ":" + TAG, project.resolve("examples/sklearn-image/train").toString(),
                    "/usr/local/bin/train-logistic"));
            for (String name : List.of("train", "serve")) {
                // The class path copy has lost the executable bit; the image's file gets it from this copy.
                Path program = files.resolve(name);
                Files.write(program, resource("seller-" + name));
                Files.setPosixFilePermissions(program, PosixFilePermissions.fromString("rwxr-xr-x"));
                run(List.of("umoci", "insert", "--image", directory + ":" + TAG, program.toString(), "/usr/local/bin/" + name));
            }
        } finally {
            try (var list = Files.list(files)) {
                for (Path p : list.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(files);
        }
        run(List.of("umoci", "config", "--image", directory + ":" + TAG, "--clear=config.entrypoint"));
        return directory;
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = SellerImage.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("the test resource " + name + " is missing");
            }
            return in.readAllBytes();
        }
    }

    private static void run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", command) + " failed: " + out);
        }
    }
}
