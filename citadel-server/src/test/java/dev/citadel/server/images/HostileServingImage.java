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
 * A hostile bring-your-own serving image for the sandbox tests, made from the scikit-learn test
 * image as {@link TrainerImage} is: {@code hostile-serve} (a test resource next to this class,
 * Python's standard library only) added as {@code /usr/local/bin/serve} and the Entrypoint
 * cleared, so that SageMaker's {@code serve} argument runs it. It keeps the inference contract on
 * port 8080 and, per invocation, tries the escape technique the request names (see the script's
 * comment). Built with umoci in seconds into a copy (hard links) of the cached layout; tagged
 * {@value #TAG}.
 */
public final class HostileServingImage {
    public static final String TAG = "hostile-serving";
    public static final String RESOURCE = "hostile-serve";

    private HostileServingImage() {
    }

    /** The program as the image holds it at {@code /usr/local/bin/serve}. */
    public static byte[] program() throws IOException {
        try (InputStream in = HostileServingImage.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IOException("the test resource " + RESOURCE + " is missing");
            }
            return in.readAllBytes();
        }
    }

    /** Writes the layout under {@code directory} (which must not exist) and returns it. */
    public static Path build(Path directory) throws IOException, InterruptedException {
        TestImages.Image base = TestImages.sklearn();
        run(List.of("cp", "-al", base.layout().toString(), directory.toString()));
        // The class path copy has lost the executable bit; the image's file gets it from this copy.
        Path program = Files.createTempFile(directory.getParent(), "hostile-serve-", "");
        try {
            Files.write(program, program());
            Files.setPosixFilePermissions(program, PosixFilePermissions.fromString("rwxr-xr-x"));
            run(List.of("umoci", "insert", "--image", directory + ":" + TestImages.TAG, "--tag", TAG, program.toString(),
                    "/usr/local/bin/serve"));
        } finally {
            Files.delete(program);
        }
        run(List.of("umoci", "config", "--image", directory + ":" + TAG, "--clear=config.entrypoint"));
        return directory;
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
