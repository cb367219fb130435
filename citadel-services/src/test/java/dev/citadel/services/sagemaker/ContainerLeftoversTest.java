package dev.citadel.services.sagemaker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a finished container left in its volume is read without following the links it may have planted. */
class ContainerLeftoversTest {
    @TempDir
    Path volume;
    @TempDir
    Path host;

    @Test
    void aFailureFileIsReadOnlyWhenNeitherItNorItsDirectoryIsALink() throws Exception {
        Files.writeString(host.resolve("secret"), "host secret");
        Files.createDirectories(volume.resolve("output"));
        Files.writeString(volume.resolve("output/failure"), "x".repeat(2000));
        assertThat(JobRunner.readSmall(volume, "output/failure")).hasValueSatisfying(s -> assertThat(s).hasSize(1024));

        Files.delete(volume.resolve("output/failure"));
        Files.createSymbolicLink(volume.resolve("output/failure"), host.resolve("secret"));
        assertThat(JobRunner.readSmall(volume, "output/failure")).isEmpty();

        Files.delete(volume.resolve("output/failure"));
        Files.delete(volume.resolve("output"));
        Files.createSymbolicLink(volume.resolve("output"), host);
        Files.move(host.resolve("secret"), host.resolve("failure"));
        assertThat(JobRunner.readSmall(volume, "output/failure")).as("a linked directory").isEmpty();
    }

    @Test
    void anOutputDirectoryBehindALinkIsNotUploaded() throws Exception {
        Files.createDirectories(volume.resolve("processing/out"));
        assertThat(JobRunner.linkFreeDirectory(volume, "processing/out")).contains(volume.resolve("processing/out"));
        Files.delete(volume.resolve("processing/out"));
        Files.delete(volume.resolve("processing"));
        Files.createDirectories(host.resolve("out"));
        Files.createSymbolicLink(volume.resolve("processing"), host);
        assertThat(JobRunner.linkFreeDirectory(volume, "processing/out")).isEmpty();
        assertThat(JobRunner.linkFreeDirectory(volume, "processing/missing")).isEmpty();
    }
}
