package dev.citadel.server.images;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A bring-your-own SageMaker image for the job tests, made from the scikit-learn test image the
 * way a user's Dockerfile would: {@code train}, {@code evaluate} and {@code serve} (the scripts of
 * {@code examples/sklearn-image/}, the quickstart's image) added to {@code /usr/local/bin} in layers of their own, and the
 * image's Entrypoint cleared so that SageMaker's {@code train} argument runs the script. Built
 * with umoci in seconds into a copy (hard links) of the cached layout; tagged {@value #TAG}.
 */
public final class TrainerImage {
    public static final String TAG = "trainer";

    private TrainerImage() {
    }

    /** Writes the layout under {@code directory} (which must not exist) and returns it. */
    public static Path build(Path directory) throws IOException, InterruptedException {
        TestImages.Image base = TestImages.sklearn();
        run(List.of("cp", "-al", base.layout().toString(), directory.toString()));
        Path resources = Path.of(System.getProperty("citadel.projectRoot", "..")).toAbsolutePath().normalize()
                .resolve("examples/sklearn-image");
        run(List.of("umoci", "insert", "--image", directory + ":" + TestImages.TAG, "--tag", TAG, resources.resolve("train").toString(),
                "/usr/local/bin/train"));
        run(List.of("umoci", "insert", "--image", directory + ":" + TAG, resources.resolve("evaluate").toString(), "/usr/local/bin/evaluate"));
        run(List.of("umoci", "insert", "--image", directory + ":" + TAG, resources.resolve("serve").toString(), "/usr/local/bin/serve"));
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
